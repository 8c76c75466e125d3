"""The demo data set of ``sinergi serve --demo``: a Kota Dumai TIMPORA and its reports.

:func:`generate_reports` writes realistic synthetic reports (deterministic by seed; names and
places from ``app/demo_data``): deferred passport applications at Immigration, interceptions at
Dumai's official and unofficial ports with recruiters who recur across reports, and online-scam
recruitment to Cambodia, Myanmar and Laos. Some persons come back in later reports under another
spelling or with only their NIK or passport in common, so that cases, networks, inboxes and
statistics have something to show. :func:`seed_demo` registers the agencies, issues their keys,
seeds the default routing rules and ingests the reports through the real ingest service.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from importlib import resources
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db import create_engine, create_session_factory, transaction
from app.models.agency import ADMIN_AGENCY_CODE, Agency
from app.models.officer import TOTP_REQUIRED_ROLES, OfficerRole
from app.schemas.agency import AgencyCreate
from app.services import imports, officers, passwords, totp
from app.services.agencies import bootstrap_admin, create_agency, get_agency
from app.services.api_keys import issue_api_key
from app.services.reports import IngestSettings
from app.services.routing import seed_default_rules

DEFAULT_SEED = 2025
DEFAULT_SIZE = 300
#: Reports fall between these dates (the years Dumai's Immigration office reported on).
FIRST_DAY = date(2023, 1, 2)
LAST_DAY = date(2025, 10, 31)


@cache
def demo_data(name: str) -> dict[str, Any]:
    """One of the data files in ``app/demo_data`` (``agencies``, ``names``, ``places``)."""
    text = resources.files("app").joinpath("demo_data", f"{name}.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


# -- synthetic persons ------------------------------------------------------------------------


@dataclass
class SyntheticPerson:
    """A made-up person, as the generator remembers them across reports."""

    given: str
    family: str | None
    father: str | None
    sex: str
    date_of_birth: date
    origin: dict[str, str]
    nik: str
    phone: str
    address: str
    passport: str | None = None
    aliases: list[str] = field(default_factory=list)

    def name(self, rng: random.Random, *, vary: bool = False) -> str:
        """The full name; with ``vary``, as another agency may have written it."""
        parts = self.given.split()
        if vary:
            for plain, other in demo_data("names")["variants"]:
                if plain in parts:
                    parts = " ".join(parts).replace(plain, other).split()
                    break
                if other in parts:
                    parts = " ".join(parts).replace(other, plain).split()
                    break
            else:
                parts = [p.upper() for p in parts]
        name = " ".join(parts)
        if self.family:
            name += f" {self.family}"
        if self.father and not (vary and rng.random() < 0.5):
            name += f" {'binti' if self.sex == 'FEMALE' else 'bin'} {self.father}"
        return name


class Generator:
    """Draws persons and reports from one seeded random source."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.names = demo_data("names")
        self.places = demo_data("places")
        self.serials: set[str] = set()
        self.victims: list[SyntheticPerson] = []
        self.port_recruiters = [self.person(adult_from=1965, adult_to=1992) for _ in range(12)]
        self.online_recruiters = [self.person(adult_from=1980, adult_to=1999) for _ in range(8)]
        for recruiter in (*self.port_recruiters, *self.online_recruiters):
            recruiter.aliases = [self.rng.choice(self.names["aliases"])]
        self.refs: dict[str, int] = {}

    # persons

    def person(self, *, adult_from: int = 1975, adult_to: int = 2006) -> SyntheticPerson:
        rng = self.rng
        sex = rng.choice(("FEMALE", "MALE"))
        given = rng.choice(self.names["given_female" if sex == "FEMALE" else "given_male"])
        if rng.random() < 0.3:
            second = rng.choice(self.names["given_female" if sex == "FEMALE" else "given_male"])
            if second != given:
                given = f"{given} {second}"
        style = rng.random()
        family = rng.choice(self.names["family"]) if style < 0.6 else None
        father = rng.choice(self.names["father_given"]) if style >= 0.8 else None
        born = date(rng.randint(adult_from, adult_to), rng.randint(1, 12), rng.randint(1, 28))
        origin = rng.choice(self.places["origins"])
        return SyntheticPerson(
            given=given,
            family=family,
            father=father,
            sex=sex,
            date_of_birth=born,
            origin=origin,
            nik=self._nik(origin["region_code"], born, sex),
            phone=self._phone(),
            address=f"{rng.choice(self.places['streets'])} No. {rng.randint(1, 120)}, "
            f"{origin['name']}",
        )

    def _nik(self, region_code: str, born: date, sex: str) -> str:
        """A NIK that decodes to the person's regency, birth date and sex."""
        day = born.day + (40 if sex == "FEMALE" else 0)
        while True:
            nik = (
                region_code.replace(".", "")
                + f"{self.rng.randint(1, 12):02d}{day:02d}{born.month:02d}{born.year % 100:02d}"
                + f"{self.rng.randint(1, 9999):04d}"
            )
            if nik not in self.serials:
                self.serials.add(nik)
                return nik

    def _phone(self) -> str:
        prefix = self.rng.choice(("0812", "0813", "0821", "0852", "0853", "0857", "0878"))
        digits = f"{self.rng.randint(0, 99_999_999):08d}"
        return f"{prefix}-{digits[:4]}-{digits[4:]}"

    def _passport(self, person: SyntheticPerson) -> str:
        if person.passport is None:
            person.passport = f"{self.rng.choice('CXE')}{self.rng.randint(1_000_000, 9_999_999)}"
        return person.passport

    def victim(self, *, recurring: float) -> tuple[SyntheticPerson, bool]:
        """A new potential victim, or (with probability ``recurring``) one seen before."""
        if self.victims and self.rng.random() < recurring:
            return self.rng.choice(self.victims), True
        person = self.person()
        self.victims.append(person)
        return person, False

    def victim_json(
        self, person: SyntheticPerson, seen_before: bool, *, passport: bool = False
    ) -> dict[str, Any]:
        """A victim entry; one seen before is spelled differently and may lack some fields.

        Now and then one seen before is known by name alone (no papers, no phone, no birth
        date): resolution cannot link that on its own and records a possible match for the
        analysts' review queue.
        """
        rng = self.rng
        if seen_before and rng.random() < 0.15:
            return {
                "role": "POTENTIAL_VICTIM",
                "full_name": person.name(rng),
                "sex": person.sex,
                "nationality": "IDN",
                "trafficking_status": "POSSIBLE",
            }
        entry: dict[str, Any] = {
            "role": "POTENTIAL_VICTIM",
            "full_name": person.name(rng, vary=seen_before),
            "sex": person.sex,
            "nationality": "IDN",
            "trafficking_status": "POSSIBLE",
            "relationship_to_recruiter": rng.choice(
                ("NEIGHBOUR", "ACQUAINTANCE", "FRIEND", "FAMILY_MEMBER", "STRANGER")
            ),
        }
        keep_dob = not seen_before or rng.random() < 0.6
        if keep_dob:
            entry["date_of_birth"] = person.date_of_birth.isoformat()
        else:
            entry["birth_year"] = person.date_of_birth.year
        if not seen_before or rng.random() < 0.7:
            entry["nik"] = person.nik
        if passport or (seen_before and person.passport):
            entry["passport_number"] = self._passport(person)
        if not seen_before or rng.random() < 0.5:
            entry["phone"] = person.phone
        if rng.random() < 0.6:
            entry["address"] = person.address
            entry["region_code"] = person.origin["region_code"]
        return entry

    def suspect_json(self, person: SyntheticPerson, roles: list[str]) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "role": "SUSPECT",
            "full_name": person.name(self.rng),
            "aliases": person.aliases,
            "sex": person.sex,
            "birth_year": person.date_of_birth.year,
            "nationality": "IDN",
            "phone": person.phone,
            "perpetrator_roles": roles,
        }
        return entry

    # reports

    def ref(self, prefix: str, day: date) -> str:
        key = f"{prefix}/{day.year}"
        self.refs[key] = self.refs.get(key, 0) + 1
        return f"{prefix}/{day.year}/{self.refs[key]:04d}"

    def common(self, ref: str, day: date, case_type: str, tlp: str) -> dict[str, Any]:
        rng = self.rng
        reported = day + timedelta(days=rng.randint(0, 3))
        return {
            "external_ref": ref,
            "case_type": case_type,
            "tlp": tlp,
            "reported_at": f"{reported.isoformat()}T{rng.randint(7, 21):02d}:"
            f"{rng.randint(0, 59):02d}:00+07:00",
            "occurred_from": day.isoformat(),
            "assessment": {
                "source_reliability": rng.choice("ABBC"),
                "information_accuracy": rng.choice("1223"),
            },
        }

    def deferred_passport(self, day: date) -> tuple[str, dict[str, Any]]:
        """Immigration defers a passport application it suspects is for nonprocedural work."""
        rng = self.rng
        person, seen = self.victim(recurring=0.08)
        destination = rng.choice(self.places["migrant_destinations"])
        applicant = self.victim_json(person, seen)
        applicant["role"] = "APPLICANT"
        applicant.pop("trafficking_status")
        applicant.pop("relationship_to_recruiter", None)  # absent when known by name alone
        body = self.common(
            self.ref("IMI-DUMAI/PSP", day), day, "TPPO", rng.choice(("AMBER", "GREEN"))
        )
        body |= {
            "location": {"region_code": "14.72", "place": self.places["immigration_office"]},
            "modus_operandi": rng.sample(
                ["TOURIST_DISGUISE", "NONPROCEDURAL_MIGRANT_WORKER", "HIGH_SALARY_JOB_OFFER"],
                rng.randint(1, 3),
            ),
            "destination_countries": [destination],
            "persons": [applicant],
            "recruitment": {
                "methods": [
                    rng.choice(("JOB_OFFER", "THROUGH_FAMILY_OR_FRIEND", "UNLICENSED_AGENT"))
                ],
                "channels": rng.sample(["FACEBOOK", "WHATSAPP", "TIKTOK", "AGENT_IN_PERSON"], 2),
            },
            "documents": [
                {
                    "type": "PASSPORT_APPLICATION",
                    "number": f"PERMOHONAN-{day.year}-{rng.randint(1, 9999):04d}",
                    "status": "DEFERRED",
                    "issuer": self.places["immigration_office"],
                }
            ],
            "actions_taken": ["PASSPORT_DEFERRED", *(["REFERRAL"] if rng.random() < 0.5 else [])],
            "narrative": rng.choice(
                (
                    "Pemohon mengaku akan berwisata, tetapi tidak dapat menjelaskan rencana "
                    "perjalanan; ditemukan pesan tawaran kerja di luar negeri.",
                    "Pemohon membawa surat sponsor dari perusahaan tidak terdaftar; wawancara "
                    "menunjukkan tujuan bekerja tanpa prosedur PMI.",
                    "Pemohon didampingi seseorang yang menjawab pertanyaan petugas; permohonan "
                    "paspor ditunda.",
                )
            ),
        }
        if rng.random() < 0.35:
            recruiter = rng.choice(self.port_recruiters)
            body["persons"].append(self.suspect_json(recruiter, ["RECRUITER_OR_INTERMEDIARY"]))
        return "IMIGRASI-DUMAI", body

    def port_interception(self, day: date) -> tuple[str, dict[str, Any]]:
        """A group stopped at a port on its way to Malaysia, with the recruiters who sent it."""
        rng = self.rng
        agency, prefix = rng.choice(
            (
                ("KSOP-DUMAI", "KSOP-DUMAI/LK"),
                ("LANAL-DUMAI", "LANAL-DUMAI/LP-A"),
                ("POLRES-DUMAI", "POLRES-DUMAI/LP-B"),
            )
        )
        unofficial = rng.random() < 0.6
        tlp = "RED" if agency == "LANAL-DUMAI" and rng.random() < 0.3 else "AMBER"
        body = self.common(self.ref(prefix, day), day, rng.choice(("TPPO", "TPPO_TPPM")), tlp)
        place = rng.choice(
            self.places["dumai_places"][1:] if unofficial else self.places["dumai_places"][:1]
        )
        persons: list[dict[str, Any]] = []
        seen_here: set[int] = set()
        for _ in range(rng.randint(2, 7)):
            person, seen = self.victim(recurring=0.15)
            if id(person) in seen_here:
                continue
            seen_here.add(id(person))
            persons.append(self.victim_json(person, seen, passport=not unofficial))
        for recruiter in rng.sample(self.port_recruiters, rng.randint(1, 2)):
            persons.append(
                self.suspect_json(
                    recruiter,
                    rng.sample(["RECRUITER_OR_INTERMEDIARY", "TRANSPORTER"], rng.randint(1, 2)),
                )
            )
        origin = rng.choice(self.places["origins"])
        vessel = rng.choice(self.places["vessels"])
        modus = ["NONPROCEDURAL_MIGRANT_WORKER", "TRANSIT_ROUTE"]
        if unofficial:
            modus.append("UNOFFICIAL_PORT")
        body |= {
            "occurred_to": day.isoformat(),
            "location": {
                "region_code": "14.72",
                "place": place,
                "port_of_exit": rng.choice(self.places["ports_of_exit"]),
            },
            "modus_operandi": modus,
            "destination_countries": ["MYS"],
            "persons": persons,
            "recruitment": {"methods": ["JOB_OFFER"], "channels": ["AGENT_IN_PERSON", "WHATSAPP"]},
            "events": [
                {
                    "type": "RECRUITMENT",
                    "date": (day - timedelta(days=rng.randint(10, 60))).isoformat(),
                    "region_code": origin["region_code"],
                    "place": origin["name"],
                },
                {
                    "type": "TRANSIT",
                    "date": (day - timedelta(days=rng.randint(1, 5))).isoformat(),
                    "region_code": "14.71",
                    "place": "Kota Pekanbaru",
                },
                {
                    "type": "INTERCEPTION",
                    "date": day.isoformat(),
                    "region_code": "14.72",
                    "place": place,
                },
            ],
            "conveyances": [vessel],
            "actions_taken": [
                "DEPARTURE_PREVENTED",
                "SHELTER",
                *(["ARREST"] if rng.random() < 0.4 else []),
            ],
            "narrative": f"Petugas menghentikan {len(persons)} orang yang akan diberangkatkan ke "
            f"{rng.choice(self.places['malaysia_destinations'])}, Malaysia, tanpa dokumen kerja; "
            "para calon PMI nonprosedural dibawa ke rumah perlindungan.",
        }
        if tlp == "RED":
            body["recipients"] = ["POLRES-DUMAI", "BP3MI-RIAU"]
        return agency, body

    def online_scam(self, day: date) -> tuple[str, dict[str, Any]]:
        """Victims of online-scam recruitment to a compound in Cambodia, Myanmar or Laos."""
        rng = self.rng
        agency, prefix = rng.choice(
            (("BP3MI-RIAU", "BP3MI-RIAU/PENG"), ("POLRES-DUMAI", "POLRES-DUMAI/LP-B"))
        )
        target = rng.choice(self.places["scam_destinations"])
        body = self.common(
            self.ref(prefix, day), day, "TPPO", rng.choice(("AMBER", "GREEN", "AMBER"))
        )
        persons = []
        for _ in range(rng.randint(1, 4)):
            person, seen = self.victim(recurring=0.12)
            entry = self.victim_json(person, seen, passport=True)
            entry["role"] = "VICTIM"
            entry["trafficking_status"] = rng.choice(("POSSIBLE", "CONFIRMED"))
            persons.append(entry)
        recruiter = rng.choice(self.online_recruiters)
        persons.append(self.suspect_json(recruiter, ["RECRUITER_OR_INTERMEDIARY"]))
        left = day - timedelta(days=rng.randint(60, 240))
        body |= {
            "location": {"region_code": "14.72", "port_of_exit": "Pelabuhan Internasional Dumai"},
            "modus_operandi": [
                "ONLINE_SCAM_RECRUITMENT",
                "HIGH_SALARY_JOB_OFFER",
                "TOURIST_DISGUISE",
            ],
            "exploitation_types": ["FORCED_CRIMINALITY"],
            "means_of_control": rng.sample(
                [
                    "WITHHELD_DOCUMENTS",
                    "RESTRICTED_MOVEMENT",
                    "THREATS",
                    "DEBT_BONDAGE",
                    "PHYSICAL_ABUSE",
                ],
                3,
            ),
            "destination_countries": [target["country"]],
            "transit_countries": target["transit"],
            "persons": persons,
            "recruitment": {
                "methods": ["ONLINE_ADVERTISEMENT", "JOB_OFFER"],
                "channels": rng.sample(["FACEBOOK", "TELEGRAM", "TIKTOK", "INSTAGRAM"], 2),
            },
            "events": [
                {"type": "DEPARTURE", "date": left.isoformat(), "region_code": "14.72"},
                {
                    "type": "TRANSIT",
                    "date": (left + timedelta(days=1)).isoformat(),
                    "country": target["transit"][0],
                },
                {
                    "type": "EXPLOITATION",
                    "date": (left + timedelta(days=4)).isoformat(),
                    "country": target["country"],
                    "place": target["place"],
                },
                {"type": "RETURN", "date": day.isoformat(), "region_code": "14.72"},
            ],
            "actions_taken": ["REPATRIATION", "SHELTER", "COUNSELLING"],
            "narrative": "Korban direkrut melalui iklan lowongan kerja sebagai operator "
            f"customer service bergaji tinggi, lalu dipaksa menjalankan penipuan daring di "
            f"{target['place']}; dipulangkan melalui Pelabuhan Dumai.",
        }
        return agency, body

    def shelter_referral(self, day: date) -> tuple[str, dict[str, Any]]:
        """The social and women/child protection office shelters someone met in an earlier
        report."""
        rng = self.rng
        person, seen = self.victim(recurring=0.9)
        entry = self.victim_json(person, seen)
        entry["role"] = "VICTIM"
        exploitation = rng.choice(("SEXUAL_EXPLOITATION", "FORCED_LABOUR"))
        body = self.common(self.ref("DP3A-DUMAI/RUJUKAN", day), day, "TPPO", "AMBER")
        body |= {
            "location": {"region_code": "14.72", "place": "Rumah Perlindungan Trauma Center Dumai"},
            "modus_operandi": ["HIGH_SALARY_JOB_OFFER", "NONPROCEDURAL_MIGRANT_WORKER"],
            "exploitation_types": [exploitation],
            "destination_countries": ["MYS"],
            "persons": [entry],
            "actions_taken": ["SHELTER", "COUNSELLING", "REFERRAL"],
            "narrative": "Korban diterima di rumah perlindungan setelah dipulangkan; "
            "pendampingan psikososial dan rujukan ke daerah asal.",
        }
        if exploitation == "FORCED_LABOUR":
            body["forced_labour_sector"] = rng.choice(("A", "C", "T"))
        return "DP3A-DUMAI", body

    def recruitment_inspection(self, day: date) -> tuple[str, dict[str, Any]]:
        """The manpower office finds an unlicensed placement agent and the people it recruited."""
        rng = self.rng
        recruiter = rng.choice(self.port_recruiters)
        persons = [self.suspect_json(recruiter, ["RECRUITER_OR_INTERMEDIARY", "SPONSOR_COMPANY"])]
        for _ in range(rng.randint(1, 3)):
            person, seen = self.victim(recurring=0.3)
            persons.append(self.victim_json(person, seen))
        body = self.common(self.ref("DISNAKER-DUMAI/BAP", day), day, "UNDETERMINED", "GREEN")
        body |= {
            "location": {"region_code": "14.72", "place": "Penampungan calon PMI, Dumai Kota"},
            "modus_operandi": ["NONPROCEDURAL_MIGRANT_WORKER", "DEBT_BONDAGE"],
            "destination_countries": [rng.choice(self.places["migrant_destinations"])],
            "persons": persons,
            "recruitment": {"methods": ["UNLICENSED_AGENT"], "channels": ["AGENT_IN_PERSON"]},
            "actions_taken": ["REFERRAL"],
            "narrative": "Pemeriksaan penampungan calon PMI tanpa izin P3MI; para calon pekerja "
            "dibebani utang biaya keberangkatan.",
        }
        return "DISNAKER-DUMAI", body


#: Each scenario with its weight in the data set.
SCENARIOS: tuple[tuple[str, int], ...] = (
    ("deferred_passport", 35),
    ("port_interception", 30),
    ("online_scam", 20),
    ("shelter_referral", 8),
    ("recruitment_inspection", 7),
)


def generate_reports(
    seed: int = DEFAULT_SEED, size: int = DEFAULT_SIZE
) -> list[tuple[str, dict[str, Any]]]:
    """``size`` reports as (submitting agency code, report body), oldest first; same seed,
    same data."""
    generator = Generator(seed)
    span = (LAST_DAY - FIRST_DAY).days
    days = sorted(FIRST_DAY + timedelta(days=generator.rng.randint(0, span)) for _ in range(size))
    names = [name for name, _ in SCENARIOS]
    weights = [weight for _, weight in SCENARIOS]
    reports = []
    for day in days:
        scenario: Callable[[date], tuple[str, dict[str, Any]]] = getattr(
            generator, generator.rng.choices(names, weights)[0]
        )
        reports.append(scenario(day))
    return reports


# -- seeding ----------------------------------------------------------------------------------


@dataclass
class DemoSeed:
    """What ``seed_demo`` created; the keys exist only here (printed once, never stored)."""

    keys: dict[str, str]
    #: Code and name of each agency, in registration order (ADMIN first).
    agencies: list[tuple[str, str]]
    rules: int
    outcomes: dict[str, int]
    #: Officers who can sign in at once: agency code, username, role, TOTP secret (admins).
    officers: list[DemoOfficer] = field(default_factory=list)


#: The password of every demo officer (development only: the demo runs with
#: SINERGI_ENV=development).
DEMO_OFFICER_PASSWORD = "demo sinergi dumai"  # noqa: S105


@dataclass(frozen=True)
class DemoOfficer:
    agency_code: str
    username: str
    role: OfficerRole
    #: Admin roles must sign in with TOTP: the secret to add to an app (or compute codes from).
    totp_secret: str | None


#: The officers each member agency gets (ADMIN gets a system admin and an analyst instead).
_MEMBER_ROLES = (("petugas", OfficerRole.OFFICER), ("admin", OfficerRole.AGENCY_ADMIN))
_ADMIN_ROLES = (("sysadmin", OfficerRole.SYSTEM_ADMIN), ("analis", OfficerRole.ANALYST))


async def seed_officers(
    session: AsyncSession, settings: Settings, agency: Agency, password_hash: str
) -> list[DemoOfficer]:
    """Officers of ``agency`` with the demo password; admins with a fresh TOTP secret."""
    roles = _ADMIN_ROLES if agency.code == ADMIN_AGENCY_CODE else _MEMBER_ROLES
    seeded: list[DemoOfficer] = []
    for prefix, role in roles:
        username = f"{prefix}.{agency.code.lower()}"
        secret = totp.new_secret() if role in TOTP_REQUIRED_ROLES else None
        await officers.create_ready_officer(
            session,
            settings,
            agency,
            officers.OfficerDraft(
                username=username, full_name=f"{prefix.title()} {agency.code}", role=role
            ),
            password_hash=password_hash,
            totp_secret=secret,
            actor="demo",
        )
        seeded.append(DemoOfficer(agency.code, username, role, secret))
    return seeded


async def seed_demo(
    settings: Settings,
    *,
    seed: int = DEFAULT_SEED,
    size: int = DEFAULT_SIZE,
    on_report: Callable[[], None] | None = None,
) -> DemoSeed:
    """Register the TIMPORA on a migrated, empty database and ingest ``size`` reports."""
    engine = create_engine(settings)
    factory = create_session_factory(engine)
    keys: dict[str, str] = {}
    agencies: list[tuple[str, str]] = [("ADMIN", "Sinergi administrators")]
    callers: dict[str, imports.AgencyCaller] = {}
    try:
        password_hash = passwords.hash_password(DEMO_OFFICER_PASSWORD)
        seeded_officers: list[DemoOfficer] = []
        async with transaction(factory) as session:
            keys["ADMIN"] = (await bootstrap_admin(session, settings)).key
            admin = await get_agency(session, ADMIN_AGENCY_CODE)
            seeded_officers += await seed_officers(session, settings, admin, password_hash)
        spec = demo_data("agencies")
        async with transaction(factory) as session:
            for item in spec["agencies"]:
                agency = await create_agency(
                    session,
                    AgencyCreate(
                        code=item["code"],
                        name=item["name"],
                        kind=item["kind"],
                        region_code=item.get("region_code", spec["region_code"]),
                    ),
                )
                issued = await issue_api_key(
                    session, secret_key=settings.secret_key, agency=agency, actor="demo"
                )
                keys[agency.code] = issued.key
                seeded_officers += await seed_officers(session, settings, agency, password_hash)
                agencies.append((agency.code, agency.name))
                callers[agency.code] = imports.AgencyCaller.of(agency)
            rules = await seed_default_rules(session, region_code=spec["region_code"])
        ingest = IngestSettings.of(settings)
        outcomes = {"created": 0, "replayed": 0, "rejected": 0}
        for code, body in generate_reports(seed, size):
            result = await imports.ingest_one(
                factory, callers[code], body, settings=ingest, via="demo"
            )
            outcomes[result.outcome] += 1
            if on_report is not None:
                on_report()
        return DemoSeed(
            keys=keys,
            agencies=agencies,
            rules=len(rules),
            outcomes=outcomes,
            officers=seeded_officers,
        )
    finally:
        await engine.dispose()
