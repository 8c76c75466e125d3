// The case page's network: reports and the persons they name, drawn with cytoscape.js.
// Click or tap a node (or Tab to the list beside it) to see what it is and to open a report;
// the tables below the drawing say the same in text, for anyone who cannot use the drawing.
(function () {
  "use strict";

  function readJson(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  function clear(element) {
    while (element.firstChild) { element.removeChild(element.firstChild); }
  }

  function line(parent, tag, text, className) {
    var element = document.createElement(tag);
    element.textContent = text;
    if (className) { element.className = className; }
    parent.appendChild(element);
    return element;
  }

  function start() {
    var data = readJson("case-graph-data");
    var words = readJson("case-graph-words");
    var container = document.getElementById("case-network");
    var detail = document.getElementById("case-network-detail");
    if (!data || !words || !container || typeof window.cytoscape !== "function") { return; }

    var elements = data.nodes.map(function (node) {
      return { group: "nodes", data: node };
    }).concat(data.edges.map(function (edge, index) {
      return { group: "edges", data: { id: "e" + index, source: edge.source, target: edge.target } };
    }));

    var narrow = container.clientWidth < 500; // phones: smaller labels, wrapped sooner
    var graph = window.cytoscape({
      container: container,
      elements: elements,
      wheelSensitivity: 0.3,
      minZoom: 0.3,
      maxZoom: 3,
      style: [
        { selector: "node", style: {
          "label": "data(label)", "font-size": narrow ? 10 : 12, "color": "#1b1f24",
          "text-valign": "bottom", "text-margin-y": 6, "text-wrap": "wrap",
          "text-max-width": narrow ? 70 : 140,
          "width": 28, "height": 28, "border-width": 2, "border-color": "#1b1f24",
          "text-background-color": "#ffffff", "text-background-opacity": 0.85, "text-background-padding": 2
        } },
        { selector: "node[kind = 'report']", style: { "shape": "round-rectangle", "background-color": "#00474f", "width": 34, "height": 26 } },
        { selector: "node[kind = 'hidden']", style: { "shape": "round-rectangle", "background-color": "#ffffff", "border-style": "dashed", "color": "#4a535c", "width": 34, "height": 26 } },
        { selector: "node[kind = 'person']", style: { "shape": "ellipse", "background-color": "#ffbf47" } },
        { selector: "edge", style: { "width": 2, "line-color": "#b9c1c9", "curve-style": "bezier" } },
        { selector: ".faded", style: { "opacity": 0.25 } },
        { selector: "node:selected", style: { "border-width": 4, "border-color": "#b0221a" } }
      ],
      // Persons named in the most reports at the top, the reports naming them below.
      layout: {
        name: "breadthfirst", directed: false, padding: 30, spacingFactor: 1,
        avoidOverlap: true,
        roots: data.nodes.filter(function (n) { return n.kind === "person"; }).slice(0, 1)
          .map(function (n) { return "#" + n.id; }).join(", ") || undefined
      }
    });

    function show(node) {
      clear(detail);
      var kind = node.data("kind");
      line(detail, "p", words[kind] || kind, "network__kind");
      line(detail, "p", node.data("label"), "network__name");
      if (kind === "person") {
        line(detail, "p", words.roles + ": " + (node.data("roles") || []).join(", "));
        line(detail, "p", words.in_reports.replace("{count}", String(node.connectedEdges().length)));
      }
      if (node.data("href")) {
        var link = line(detail, "a", words.open);
        link.href = node.data("href");
      }
      graph.elements().addClass("faded");
      node.closedNeighborhood().removeClass("faded");
    }

    // A small case would be drawn huge: keep labels at a readable size.
    if (graph.zoom() > 1.2) {
      graph.zoom(1.2);
      graph.center();
    }

    graph.on("tap", "node", function (event) { show(event.target); });
    graph.on("tap", function (event) {
      if (event.target === graph) {
        graph.elements().removeClass("faded");
        clear(detail);
      }
    });
    graph.on("dbltap", "node[href]", function (event) { window.location.href = event.target.data("href"); });

    var fit = document.getElementById("case-network-fit");
    if (fit) {
      fit.addEventListener("click", function () {
        graph.elements().removeClass("faded");
        graph.fit(undefined, 30);
      });
    }
    window.__caseNetwork = graph; // for the browser tests
    container.setAttribute("data-ready", "true");
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
