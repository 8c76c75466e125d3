"""Labelled synthetic Indonesian persons and their corrupted duplicates, as agencies write them.

Each true person ("entity") gets one or more records, each as a different agency would have typed
it: old spellings (Djoko, Soetrisno), Muhammad abbreviated, titles added, bin/binti written or not,
name order swapped, typos, NIK or passport missing or mistyped, day and month swapped, phones as
08…, +62… or 62…. Hard negatives are built in on purpose: siblings share a family name, father,
address and phone, twins share a birth date, and popular names recur.

Deterministic for a seed. ``python benchmarks/synthetic.py --entities 100 --reports`` prints
report-shaped JSON (persons with roles) for API-level tests and demos.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta

from faker import Faker

AGENCIES = ("IMIGRASI", "POLRI", "BP2MI", "KEMLU", "KEMENSOS", "KPPPA", "NGO_IOM")

# Province codes of the NIK (Kemendagri), weighted towards the provinces most TPPO victims come
# from.
PROVINCES = {
    "11": "Aceh", "12": "Sumatera Utara", "13": "Sumatera Barat", "31": "DKI Jakarta",
    "32": "Jawa Barat", "33": "Jawa Tengah", "34": "DI Yogyakarta", "35": "Jawa Timur",
    "36": "Banten", "51": "Bali", "52": "Nusa Tenggara Barat", "53": "Nusa Tenggara Timur",
    "61": "Kalimantan Barat", "64": "Kalimantan Timur", "73": "Sulawesi Selatan",
}  # fmt: skip
PROVINCE_WEIGHTS = (2, 3, 1, 3, 8, 7, 1, 8, 3, 1, 6, 6, 2, 1, 3)

MOBILE_PREFIXES = ("811", "812", "813", "821", "822", "823", "852", "853", "857", "858",
                   "877", "878", "895", "896", "897", "838", "831", "881")  # fmt: skip

MUSLIM_MALE_FIRST = ("Muhammad", "Ahmad", "Abdul", "Rizky", "Fajar", "Hendra", "Agus", "Arif",
                     "Yusuf", "Hasan", "Ridwan", "Fauzi", "Ilham", "Syaiful", "Zainal", "Khairul",
                     "Rahmat", "Hidayat", "Ramadhan", "Fathur", "Nur", "Imam", "Taufik",
                     "Wahyu")  # fmt: skip
MUSLIM_FEMALE_FIRST = ("Siti", "Nur", "Dewi", "Fitri", "Aisyah", "Fatimah", "Nurul", "Sri", "Putri",
                       "Rina", "Yuliana", "Zahra", "Khadijah", "Rahmawati", "Aminah", "Halimah",
                       "Indah", "Wulan", "Syarifah", "Nabila", "Salsabila", "Ayu")  # fmt: skip
MUSLIM_SECOND = ("Rahman", "Hidayat", "Nurhaliza", "Aini", "Fauzi", "Hakim", "Maulana", "Saputra",
                 "Lestari", "Handayani", "Wahyuni", "Kurniawan", "Setiawan", "Hasanah", "Rohmah",
                 "Syahputra", "Ramadhani", "Nurjanah", "Khoirunnisa", "Firmansyah", "Iskandar",
                 "Zulkarnain", "Jannah", "Amalia")  # fmt: skip
FATHERS = ("Abdullah", "Ahmad", "Hasan", "Ismail", "Yusuf", "Sulaiman", "Umar", "Ibrahim",
           "Muhammad", "Harun", "Daud", "Saleh", "Hamid", "Rasyid", "Zakaria")  # fmt: skip
JAVANESE_SINGLE_MALE = ("Sutrisno", "Suparman", "Slamet", "Sugiyono", "Paijo", "Tukiman",
                        "Sukarno", "Suharto", "Wagiman", "Darmaji", "Suyanto", "Parjo", "Sumadi",
                        "Djoko", "Bambang", "Tjipto", "Sudarsono", "Mulyono")  # fmt: skip
JAVANESE_SINGLE_FEMALE = ("Sulastri", "Sumiati", "Tumini", "Painem", "Suwarni", "Sri Wahyuni",
                          "Ngatini", "Sukinah", "Wagiyem", "Marsini", "Tuminah", "Juminten",
                          "Sutinah", "Partini")  # fmt: skip
SUNDANESE_MALE = ("Asep", "Ujang", "Cecep", "Dadang", "Jajang", "Ade", "Dede", "Engkus", "Yayan",
                  "Acep", "Entis", "Oman")  # fmt: skip
SUNDANESE_FEMALE = ("Euis", "Neng", "Imas", "Cucu", "Enok", "Popon", "Iis", "Lilis", "Nining",
                    "Tati", "Yeyen", "Elis")  # fmt: skip
SUNDANESE_SECOND = ("Saepudin", "Suherman", "Komariah", "Sopandi", "Rohaeni", "Kurniasih",
                    "Hermawan", "Sukmana", "Permana", "Rustandi", "Nurhayati",
                    "Suryana")  # fmt: skip
BATAK_CLANS = ("Simanjuntak", "Siregar", "Nainggolan", "Sitompul", "Hutapea", "Panjaitan",
               "Situmorang", "Sinaga", "Simatupang", "Pardede", "Lubis", "Nasution", "Harahap",
               "Manurung", "Sihombing", "Tampubolon")  # fmt: skip
BATAK_MALE = ("Tigor", "Hotman", "Rudolf", "Parlindungan", "Togar", "Mangasi", "Poltak", "Bonar",
              "Roy", "Jonathan", "Daniel", "Samuel")  # fmt: skip
BATAK_FEMALE = ("Maria", "Rosmawati", "Tiurma", "Lamtiar", "Rugun", "Debora", "Ester", "Rut",
                "Monika", "Yohana")  # fmt: skip
CHINESE_SURNAMES = ("Tan", "Lim", "Ong", "Goh", "Liem", "Oei", "Kwee", "Tjoa", "The", "Go")
CHINESE_GIVEN = ("Siu Lan", "Swie Hong", "Mei Ling", "Kok Wei", "Hui Min", "Bun Hok", "Giok Nio",
                 "Ing Tjoe", "Lay Hoon", "Tjong San")  # fmt: skip
CHINESE_INDONESIAN = ("Hartono", "Wijaya", "Gunawan", "Tanoto", "Salim", "Halim", "Sugianto",
                      "Kusuma", "Tanjaya", "Setiabudi", "Santoso", "Widjaja")  # fmt: skip
CHINESE_FIRST_MALE = ("Budi", "Hendra", "Stevanus", "Yohanes", "Kevin", "Hendrik", "Wendy")
CHINESE_FIRST_FEMALE = ("Lina", "Fransiska", "Melinda", "Jessica", "Susanti", "Vivi", "Cindy")
BALI_MALE_PREFIX = ("I Made", "I Wayan", "I Ketut", "I Nyoman", "I Putu", "I Komang", "I Gede")
BALI_FEMALE_PREFIX = ("Ni Made", "Ni Wayan", "Ni Ketut", "Ni Nyoman", "Ni Putu", "Ni Luh",
                      "Ni Komang")  # fmt: skip
BALI_SECOND = ("Suarta", "Sudiarta", "Astawa", "Widiastuti", "Sukerti", "Ariani", "Budiasa",
               "Mahendra", "Wirawan", "Sumerta", "Darmayanti", "Adnyana")  # fmt: skip
FOREIGN = {  # TPPM: smuggled persons transiting Indonesia, with passports but no NIK.
    "MMR": (("Mohammed", "Abdul", "Nur", "Rashida", "Noor", "Hamida", "Anwar", "Sayed", "Yasmin",
             "Rafiq", "Shafiq", "Jamila"),
            ("Hussain", "Begum", "Karim", "Khatun", "Kalam", "Ullah", "Alam", "Islam", "Rahman",
             "Bibi", "Hossain", "Amin")),
    "AFG": (("Ahmad", "Zahra", "Mohammad", "Farida", "Ali", "Mariam", "Hamid", "Nazanin",
             "Wahid", "Shirin", "Javad", "Sima"),
            ("Rahimi", "Hosseini", "Nabi", "Karimi", "Ahmadi", "Sultani", "Mohammadi", "Jafari",
             "Haidari", "Rezai", "Akbari", "Sadat")),
    "LKA": (("Nimal", "Kumari", "Ruwan", "Dilani", "Chaminda", "Sanduni", "Kasun", "Nadeesha",
             "Tharindu", "Ishara"),
            ("Perera", "Silva", "Fernando", "Jayasuriya", "Bandara", "Wickramasinghe", "Dias",
             "Rajapaksa", "Gunawardena", "Herath")),
    "PHL": (("Maria", "Jose", "Ana", "Mark", "Cristina", "Juan", "Rosario", "Paolo", "Liza",
             "Ramon"),
            ("Santos", "Reyes", "Cruz", "Bautista", "Garcia", "Mendoza", "Ramos", "Aquino",
             "Villanueva", "Dela Cruz")),
}  # fmt: skip
TITLES_MALE = ("H.", "Drs.", "Ir.", "Bapak", "Sdr.")
TITLES_FEMALE = ("Hj.", "Ibu", "Sdri.", "Dra.")
DEGREES = ("S.Pd.", "S.H.", "S.E.", "M.M.", "S.Kom.", "A.Md.")

# Modern → pre-1972 spellings, to write a name the way an old document or an old clerk would.
OLD_SPELLINGS = (("j", "dj"), ("c", "tj"), ("u", "oe"), ("y", "j"), ("kh", "ch"), ("ny", "nj"),
                 ("sy", "sj"))  # fmt: skip
MUHAMMAD_FORMS = ("Muhammad", "Muhamad", "Mochammad", "Mohamad", "Moch.", "M.", "Mohammad", "Muh.")
PHONETIC_VARIANTS = (("f", "p"), ("v", "f"), ("z", "j"), ("dh", "d"), ("th", "t"), ("sy", "s"),
                     ("kh", "h"), ("q", "k"), ("ah", "a"), ("i", "ie"), ("e", "a"))  # fmt: skip


# Given names Indonesian parents give twins and close siblings: paired, rhyming or one letter
# apart, or the birth-order names Eka (first) and Dwi (second). (name, sex, name, sex).
HOUSEHOLD_NAME_PAIRS = (("Hasan", "M", "Husain", "M"), ("Rina", "F", "Rini", "F"),
                        ("Putra", "M", "Putri", "F"), ("Dewa", "M", "Dewi", "F"),
                        ("Aini", "F", "Aisyah", "F"), ("Rizky", "M", "Fajar", "M"),
                        ("Rizky", "M", "Rizka", "F"), ("Dina", "F", "Dini", "F"),
                        ("Nina", "F", "Nani", "F"), ("Andi", "M", "Andri", "M"),
                        ("Agus", "M", "Agung", "M"), ("Eka", "F", "Dwi", "F"),
                        ("Eka", "M", "Dwi", "M"), ("Fitri", "F", "Fitria", "F"),
                        ("Rudi", "M", "Rida", "F"), ("Yuli", "F", "Yuni", "F"),
                        ("Iwan", "M", "Irwan", "M"), ("Wawan", "M", "Wati", "F"),
                        ("Ayu", "F", "Ayun", "F"), ("Rahmat", "M", "Rahma", "F"),
                        ("Sinta", "F", "Santi", "F"), ("Wahyu", "M", "Wahyudi", "M"),
                        ("Arif", "M", "Arifin", "M"), ("Lia", "F", "Lisa", "F"))  # fmt: skip


@dataclass(frozen=True, slots=True)
class TruePerson:
    """The real person behind the records."""

    entity_id: int
    full_name: str
    father: str | None
    sex: str
    date_of_birth: date
    nationality: str
    nik: str | None
    passport_number: str | None
    phone: str | None
    address: str
    family_name: str | None = None


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """One agency's record of a person, as typed (raw, not normalized)."""

    entity_id: int
    agency: str
    full_name: str
    aliases: tuple[str, ...]
    date_of_birth: str | None
    birth_year: int | None
    sex: str | None
    nationality: str | None
    nik: str | None
    passport_number: str | None
    phone: str | None
    address: str | None


class Generator:
    """Deterministic source of true persons and their records for one seed."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.faker = Faker("id_ID")
        self.faker.seed_instance(seed)
        self.niks: set[str] = set()
        self.passports: set[str] = set()
        self.phones: set[str] = set()

    # ------------------------------------------------------------------ true persons

    def name(self, sex: str, family: str | None = None) -> tuple[str, str | None]:
        """A name in one of Indonesia's common naming patterns, and its family name if any."""
        r = self.rng
        male = sex == "M"
        pattern = r.choices(
            ("muslim", "javanese", "sundanese", "batak", "chinese", "bali", "faker"),
            weights=(30, 18, 12, 8, 6, 5, 21),
        )[0]
        if family is not None and family in BATAK_CLANS:
            pattern = "batak"
        elif family is not None and family in CHINESE_INDONESIAN + CHINESE_SURNAMES:
            pattern = "chinese"
        if pattern == "muslim":
            first = r.choice(MUSLIM_MALE_FIRST if male else MUSLIM_FEMALE_FIRST)
            parts = [first]
            if (male and first == "Muhammad") or r.random() < 0.3:
                parts.append(r.choice(MUSLIM_MALE_FIRST[1:] if male else MUSLIM_FEMALE_FIRST))
            if r.random() < 0.85:
                parts.append(r.choice(MUSLIM_SECOND))
            return " ".join(dict.fromkeys(parts)), None
        if pattern == "javanese":
            if r.random() < 0.5:
                return r.choice(JAVANESE_SINGLE_MALE if male else JAVANESE_SINGLE_FEMALE), None
            first = self.faker.first_name_male() if male else self.faker.first_name_female()
            return f"{first} {self.faker.last_name()}", None
        if pattern == "sundanese":
            first = r.choice(SUNDANESE_MALE if male else SUNDANESE_FEMALE)
            return f"{first} {r.choice(SUNDANESE_SECOND)}", None
        if pattern == "batak":
            clan = family or r.choice(BATAK_CLANS)
            return f"{r.choice(BATAK_MALE if male else BATAK_FEMALE)} {clan}", clan
        if pattern == "chinese":
            if family in CHINESE_SURNAMES or (family is None and r.random() < 0.3):
                surname = family or r.choice(CHINESE_SURNAMES)
                return f"{surname} {r.choice(CHINESE_GIVEN)}", surname
            surname = family or r.choice(CHINESE_INDONESIAN)
            first = r.choice(CHINESE_FIRST_MALE if male else CHINESE_FIRST_FEMALE)
            return f"{first} {surname}", surname
        if pattern == "bali":
            prefix = r.choice(BALI_MALE_PREFIX if male else BALI_FEMALE_PREFIX)
            return f"{prefix} {r.choice(BALI_SECOND)}", None
        first = self.faker.first_name_male() if male else self.faker.first_name_female()
        if r.random() < 0.15:
            return first, None
        middle = ""
        if r.random() < 0.25:
            middle = " " + (
                self.faker.first_name_male() if male else self.faker.first_name_female()
            )
        return f"{first}{middle} {self.faker.last_name()}", None

    def nik(self, sex: str, dob: date, region: str) -> str:
        """A NIK consistent with region, birth date and sex (day + 40 for women), unique."""
        day = dob.day + (40 if sex == "F" else 0)
        while True:
            serial = self.rng.randint(1, 9999)
            value = f"{region}{day:02d}{dob.month:02d}{dob.year % 100:02d}{serial:04d}"
            if value not in self.niks:
                self.niks.add(value)
                return value

    def passport(self) -> str:
        while True:
            value = self.rng.choice("ABCEX") + f"{self.rng.randint(0, 9999999):07d}"
            if value not in self.passports:
                self.passports.add(value)
                return value

    def phone(self) -> str:
        while True:
            digits = f"0{self.rng.choice(MOBILE_PREFIXES)}{self.rng.randint(0, 99999999):08d}"
            if digits not in self.phones:
                self.phones.add(digits)
                return digits

    def region(self) -> str:
        province = self.rng.choices(tuple(PROVINCES), weights=PROVINCE_WEIGHTS)[0]
        return f"{province}{self.rng.randint(1, 25):02d}{self.rng.randint(1, 30):02d}"

    def address(self, region: str) -> str:
        province = PROVINCES.get(region[:2], "")
        return (
            f"{self.faker.street_name()} No. {self.rng.randint(1, 200)}"
            f" RT {self.rng.randint(1, 15):02d}"
            f" RW {self.rng.randint(1, 10):02d}, Desa {self.faker.city_name()}, "
            f"Kec. {self.faker.city_name()}, {province}"
        )

    def birth_date(self) -> date:
        # Victims and suspects: mostly 16 to 50 years old in 2026.
        return date(1976, 1, 1) + timedelta(days=self.rng.randint(0, 34 * 365))

    def true_person(self, entity_id: int) -> TruePerson:
        r = self.rng
        sex = r.choice("MF")
        dob = self.birth_date()
        if r.random() < 0.06:
            nationality = r.choice(tuple(FOREIGN))
            return TruePerson(
                entity_id=entity_id,
                full_name=(
                    f"{r.choice(FOREIGN[nationality][0])} {r.choice(FOREIGN[nationality][1])}"
                ),
                father=None,
                sex=sex,
                date_of_birth=dob,
                nationality=nationality,
                nik=None,
                passport_number=self.passport() if r.random() < 0.7 else None,
                phone=self.phone() if r.random() < 0.3 else None,
                address=self.faker.city_name(),
            )
        region = self.region()
        name, family = self.name(sex)
        return TruePerson(
            entity_id=entity_id,
            full_name=name,
            father=r.choice(FATHERS) if r.random() < 0.4 else None,
            sex=sex,
            date_of_birth=dob,
            nationality="IDN",
            nik=self.nik(sex, dob, region),
            passport_number=self.passport() if r.random() < 0.55 else None,
            phone=self.phone(),
            address=self.address(region),
            family_name=family,
        )

    def sibling(self, of: TruePerson, entity_id: int, twin: bool) -> TruePerson:
        """A brother or sister: same father, family name, address and often phone;
        a namesake risk."""
        r = self.rng
        sex = r.choice("MF")
        dob = of.date_of_birth if twin else of.date_of_birth + timedelta(days=r.randint(300, 4000))
        name, _ = self.name(sex, family=of.family_name)
        region = of.nik[:6] if of.nik else self.region()
        return replace(
            of,
            entity_id=entity_id,
            full_name=name,
            sex=sex,
            date_of_birth=dob,
            nik=self.nik(sex, dob, region) if of.nik else None,
            passport_number=self.passport() if r.random() < 0.5 else None,
            phone=of.phone if r.random() < 0.3 else self.phone(),
        )

    def household(
        self, of: TruePerson, entity_id: int, twin: bool
    ) -> tuple[TruePerson, TruePerson]:
        """``of`` renamed and a twin or sibling as Indonesian households have them.

        Both get paired or near given names (Rina/Rini, Putra/Putri, Eka/Dwi) in place of the
        first given name, or keep a shared first name and differ in the next ("Muhammad Rizky" /
        "Muhammad Fajar"); father, family name and address are shared, the phone mostly. Twins
        share the birth date and their NIKs region and birth digits, the serial often
        consecutive; passports issued together are consecutive (C1234567 / C1234568)."""
        r = self.rng
        pairs = [p for p in HOUSEHOLD_NAME_PAIRS if of.sex in (p[1], p[3])]
        a, sex_a, b, sex_b = r.choice(pairs)
        if sex_a != of.sex or (sex_b == of.sex and r.random() < 0.5):
            a, sex_a, b, sex_b = b, sex_b, a, sex_a
        words = of.full_name.split()
        if of.nationality != "IDN":
            at = 0
        elif of.family_name and words[0] == of.family_name and len(words) > 1:
            at = len(words) - 1  # surname first: the given name last
        elif words[0] in {"Muhammad", "Nur", "Siti", "I", "Ni"} and len(words) > 2:
            at = 1 if words[0] not in {"I", "Ni"} else 2
        else:
            at = 0
        if (
            r.random() < 0.25
            and len(words) > at + 1
            and at == 0
            and words[0] in {"Muhammad", "Nur", "Siti", "Sri"}
        ):
            at = 1  # "Muhammad Rizky" / "Muhammad Fajar": only the second name differs
        first_name = " ".join([*words[:at], a, *words[at + 1 :]])
        other_name = " ".join([*words[:at], b, *words[at + 1 :]])
        first = replace(of, full_name=first_name)
        dob = of.date_of_birth if twin else of.date_of_birth + timedelta(days=r.randint(300, 4000))
        nik = None
        if of.nik:
            day = dob.day + (40 if sex_b == "F" else 0)
            serial = int(of.nik[12:]) + 1
            stem = f"{of.nik[:6]}{day:02d}{dob.month:02d}{dob.year % 100:02d}"
            following = f"{stem}{serial:04d}"
            if twin and serial <= 9999 and following not in self.niks and r.random() < 0.7:
                nik = following
                self.niks.add(nik)
            else:
                nik = self.nik(sex_b, dob, of.nik[:6])
        passport_number = None
        if r.random() < 0.5:
            if of.passport_number and r.random() < 0.6:
                following = f"{of.passport_number[0]}{int(of.passport_number[1:]) + 1:07d}"
                if len(following) == 8 and following not in self.passports:
                    passport_number = following
                    self.passports.add(following)
            if passport_number is None:
                passport_number = self.passport()
        second = replace(
            of,
            entity_id=entity_id,
            full_name=other_name,
            sex=sex_b,
            date_of_birth=dob,
            nik=nik,
            passport_number=passport_number,
            phone=of.phone if r.random() < 0.7 else self.phone(),
        )
        return first, second

    def namesake(self, of: TruePerson, entity_id: int) -> TruePerson:
        """Another person with the same popular name and birth year: the hardest negative."""
        other = self.true_person(entity_id)
        dob = of.date_of_birth.replace(month=self.rng.randint(1, 12), day=self.rng.randint(1, 28))
        region = other.nik[:6] if other.nik else self.region()
        return replace(
            other,
            full_name=of.full_name,
            sex=of.sex,
            date_of_birth=dob,
            nik=self.nik(of.sex, dob, region) if other.nik else None,
            nationality=of.nationality,
        )

    # --------------------------------------------------------------------- corruption

    def typo(self, text: str) -> str:
        """One keyboard slip: substitution, deletion, insertion or adjacent transposition."""
        r = self.rng
        letters = [i for i, ch in enumerate(text) if ch.isalpha()]
        if len(letters) < 3:
            return text
        i = r.choice(letters[1:])
        kind = r.randrange(4)
        alphabet = "abcdefghijklmnopqrstuvwxyz"
        if kind == 0:
            return text[:i] + r.choice(alphabet) + text[i + 1 :]
        if kind == 1:
            return text[:i] + text[i + 1 :]
        if kind == 2:
            return text[:i] + r.choice(alphabet) + text[i:]
        if i + 1 < len(text) and text[i + 1].isalpha():
            return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
        return text

    def spelling_variant(self, name: str) -> str:
        r = self.rng
        words = name.split()
        out = []
        for word in words:
            if word.lower() in {"muhammad", "muhamad", "mohammad", "mohammed"}:
                out.append(r.choice(MUHAMMAD_FORMS))
                continue
            if word.lower() == "nur":
                out.append(r.choice(("Noor", "Nurul", "Nur")))
                continue
            if r.random() < 0.5:
                lowered = word.lower()
                table = OLD_SPELLINGS if r.random() < 0.6 else PHONETIC_VARIANTS
                modern, old = r.choice(table)
                if modern in lowered[1:] or (modern in lowered and table is OLD_SPELLINGS):
                    lowered = lowered.replace(modern, old, 1)
                elif r.random() < 0.3 and len(lowered) > 3:
                    j = r.randrange(1, len(lowered) - 1)
                    if lowered[j] in "lmnrst":
                        lowered = lowered[: j + 1] + lowered[j] + lowered[j + 1 :]
                word = lowered.capitalize()
            out.append(word)
        return " ".join(out)

    def corrupt_name(self, person: TruePerson) -> tuple[str, tuple[str, ...]]:
        r = self.rng
        name = person.full_name
        words = name.split()
        if r.random() < 0.25:
            name = self.spelling_variant(name)
        if r.random() < 0.12:
            name = self.typo(name)
        if len(words) >= 2 and r.random() < 0.08:
            parts = name.split()
            name = " ".join(parts[1:] + parts[:1])  # family or second name written first
        if len(words) >= 3 and r.random() < 0.08:
            parts = name.split()
            del parts[r.randrange(1, len(parts))]
            name = " ".join(parts)
        if r.random() < 0.05:
            parts = name.split()
            if len(parts) >= 2:
                k = r.randrange(len(parts) - 1)
                name = " ".join([*parts[:k], parts[k] + parts[k + 1].lower(), *parts[k + 2 :]])
        elif r.random() < 0.03:
            parts = name.split()
            longest = max(parts, key=len)
            if len(longest) >= 8:
                cut = len(longest) // 2
                parts[parts.index(longest)] = f"{longest[:cut]} {longest[cut:].capitalize()}"
                name = " ".join(parts)
        if person.father and r.random() < 0.35:
            name = f"{name} {'bin' if person.sex == 'M' else 'binti'} {person.father}"
        if r.random() < 0.08:
            name = f"{r.choice(TITLES_MALE if person.sex == 'M' else TITLES_FEMALE)} {name}"
        if r.random() < 0.04:
            name = f"{name}, {r.choice(DEGREES)}"
        name = r.choice((name, name, name.upper(), name.lower()))
        aliases: tuple[str, ...] = ()
        if r.random() < 0.05:
            aliases = (person.full_name.split()[0],)
        return name, aliases

    def corrupt_dob(self, dob: date) -> tuple[str | None, int | None]:
        r = self.rng
        roll = r.random()
        if roll < 0.80:
            return dob.isoformat(), dob.year
        if roll < 0.85 and dob.day <= 12 and dob.day != dob.month:
            return date(dob.year, dob.day, dob.month).isoformat(), dob.year
        if roll < 0.90:
            digits = list(dob.strftime("%Y%m%d"))
            for _ in range(10):
                i = r.choice((3, 5, 6, 7))
                candidate = digits.copy()
                candidate[i] = str(r.randrange(10))
                try:
                    typed = date(int("".join(candidate[:4])), int("".join(candidate[4:6])),
                                 int("".join(candidate[6:])))  # fmt: skip
                except ValueError:
                    continue
                if typed != dob:
                    return typed.isoformat(), typed.year
            return dob.isoformat(), dob.year
        if roll < 0.96:
            return None, dob.year
        return None, None

    def corrupt_identifier(self, value: str | None, missing: float, typo: float) -> str | None:
        r = self.rng
        if value is None or r.random() < missing:
            return None
        if r.random() < typo:
            chars = list(value)
            i = r.randrange(1, len(chars) - 1)
            if r.random() < 0.5:
                chars[i], chars[i + 1] = chars[i + 1], chars[i]
            else:
                chars[i] = str(r.randrange(10)) if chars[i].isdigit() else chars[i]
            return "".join(chars)
        return value

    def format_phone(self, digits: str | None) -> str | None:
        if digits is None:
            return None
        local = digits[1:]
        return self.rng.choice(
            (
                digits,
                f"{digits[:4]}-{digits[4:8]}-{digits[8:]}",
                f"+62{local}",
                f"+62 {local[:3]} {local[3:7]} {local[7:]}",
                f"62{local}",
            )
        )

    def format_nik(self, nik: str | None) -> str | None:
        if nik is None:
            return None
        return nik if self.rng.random() < 0.85 else f"{nik[:6]}.{nik[6:12]}.{nik[12:]}"

    def corrupt_address(self, address: str) -> str | None:
        r = self.rng
        if r.random() < 0.3:
            return None
        if r.random() < 0.1:
            return self.address(self.region())  # moved house, or a shelter's address
        parts = [p.strip() for p in address.split(",")]
        if r.random() < 0.4 and len(parts) > 2:
            parts = parts[: r.randint(2, len(parts) - 1)]
        text = ", ".join(parts)
        if r.random() < 0.3:
            text = text.replace("Jl.", "Jalan").replace("Kec.", "Kecamatan")
        return text

    def record(self, person: TruePerson, agency: str, first: bool) -> PersonRecord:
        """One agency's record: the first one carefully typed, later ones corrupted."""
        r = self.rng
        if first and r.random() < 0.5:
            dob_text: str | None = person.date_of_birth.isoformat()
            year: int | None = person.date_of_birth.year
            name, aliases = person.full_name, ()
        else:
            name, aliases = self.corrupt_name(person)
            dob_text, year = self.corrupt_dob(person.date_of_birth)
        phone = person.phone
        if phone is not None and r.random() < 0.12:
            phone = self.phone()  # a new SIM card
        sex: str | None = person.sex
        if r.random() < 0.05:
            sex = None
        elif r.random() < 0.005:
            sex = "F" if person.sex == "M" else "M"
        return PersonRecord(
            entity_id=person.entity_id,
            agency=agency,
            full_name=name,
            aliases=aliases,
            date_of_birth=dob_text,
            birth_year=year,
            sex=r.choice((sex, sex, {"M": "L", "F": "P"}.get(sex or "", sex))),
            nationality=person.nationality if r.random() < 0.9 else None,
            nik=self.format_nik(self.corrupt_identifier(person.nik, missing=0.3, typo=0.04)),
            passport_number=self.corrupt_identifier(person.passport_number, 0.45, 0.03),
            phone=self.format_phone(phone if r.random() < 0.65 else None),
            address=self.corrupt_address(person.address),
        )


def generate(
    entities: int,
    seed: int = 7,
    relations: list[tuple[int, int, str]] | None = None,
    households: bool = False,
) -> list[PersonRecord]:
    """Records for ``entities`` true persons: about 45% of them reported by 2 to 5 agencies.

    One person in ten comes with a sibling (same father, family name, address, often phone; a
    twin now and then) and one in fifty with a namesake born the same year. ``relations``, if
    given, receives each such pair of true persons as (entity id, entity id, "sibling", "twin"
    or "namesake"). With ``households`` the siblings are as Indonesian households have them
    (``Generator.household``: paired or near given names, consecutive NIK serials and passport
    numbers) and half of them are twins; without it the figures stay those of earlier releases.
    """
    gen = Generator(seed)
    people: list[TruePerson] = []
    while len(people) < entities:
        person = gen.true_person(len(people))
        people.append(person)
        roll = gen.rng.random()
        if households and roll < 0.10 and len(people) < entities:
            twin = gen.rng.random() < 0.5
            people[-1], relative = gen.household(person, len(people), twin=twin)
            people.append(relative)
            if relations is not None:
                relations.append((person.entity_id, len(people) - 1, "twin" if twin else "sibling"))
        elif roll < 0.10 and len(people) < entities:
            twin = gen.rng.random() < 0.1
            people.append(gen.sibling(person, len(people), twin=twin))
            if relations is not None:
                relations.append((person.entity_id, len(people) - 1, "twin" if twin else "sibling"))
        elif roll < 0.12 and len(people) < entities:
            people.append(gen.namesake(person, len(people)))
            if relations is not None:
                relations.append((person.entity_id, len(people) - 1, "namesake"))
    records: list[PersonRecord] = []
    for person in people:
        copies = 1
        if gen.rng.random() < 0.45:
            copies += gen.rng.choices((1, 2, 3, 4), weights=(55, 25, 12, 8))[0]
        agencies = gen.rng.sample(AGENCIES, k=min(copies, len(AGENCIES)))
        for i, agency in enumerate(agencies):
            records.append(gen.record(person, agency, first=i == 0))
    return records


def without_national_ids(records: list[PersonRecord]) -> list[PersonRecord]:
    """The same records with NIK and passport numbers removed (names, dates, phones remain)."""
    return [replace(r, nik=None, passport_number=None) for r in records]


ROLES = ("VICTIM", "POTENTIAL_VICTIM", "SUSPECT", "WITNESS", "APPLICANT")


def to_reports(records: list[PersonRecord], seed: int = 7) -> list[dict[str, object]]:
    """Report-shaped JSON: one report per record, the person with a role, labelled by entity."""
    rng = random.Random(seed)
    reports = []
    for i, record in enumerate(records):
        person = {k: v for k, v in asdict(record).items() if k not in {"entity_id", "agency"}}
        person["aliases"] = list(record.aliases)
        person["role"] = rng.choices(ROLES, weights=(50, 15, 20, 5, 10))[0]
        reports.append(
            {
                "agency": record.agency,
                "external_ref": f"{record.agency}-{i:06d}",
                "case_type": rng.choice(("TPPO", "TPPM", "TPPO_TPPM", "UNDETERMINED")),
                "tlp": rng.choice(("GREEN", "AMBER")),
                "persons": [person],
                "_label": {"entity_id": record.entity_id},
            }
        )
    return reports


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reports", action="store_true", help="emit report-shaped JSON")
    args = parser.parse_args()
    records = generate(args.entities, args.seed)
    if args.reports:
        json.dump(to_reports(records, args.seed), sys.stdout, indent=2, default=str)
    else:
        for record in records:
            print(json.dumps(asdict(record), ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
