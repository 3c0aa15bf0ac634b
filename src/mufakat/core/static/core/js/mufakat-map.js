// The one Mufakat map: draws every element marked data-mufakat-map from its typed layer specs
// (core/map/spec.py). Data never becomes markup: popups and tooltips are DOM nodes filled with
// textContent, and links are made only to same-origin paths. Names, legends and filter labels
// are rendered by the server in the page's language (core/map/_map.html); this file has no strings.
/* global L */
(function () {
  const COLOUR = /^#[0-9a-fA-F]{6}$/;
  const lang = document.documentElement.lang || undefined;

  // A path on this site, or null: refuses other origins, scheme-relative '//host', 'javascript:'.
  function samePath(value) {
    if (typeof value !== "string" || !value.startsWith("/") || value.startsWith("//") || /[\\\s\u0000-\u001f]/.test(value)) return null;
    let url;
    try { url = new URL(value, window.location.origin); } catch (e) { return null; }
    return url.origin === window.location.origin ? url.pathname + url.search + url.hash : null;
  }

  function display(field, value) {
    if (field.kind === "number") {
      const n = Number(value);
      return Number.isFinite(n) ? n.toLocaleString(lang) : String(value);
    }
    if (field.kind === "date" || field.kind === "datetime") {
      const t = new Date(value);
      if (Number.isNaN(t.getTime())) return String(value);
      // Records keep UTC; the reader's clock would shift an incident to another day.
      const opts = field.kind === "date" ? { dateStyle: "medium", timeZone: "UTC" } : { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" };
      return new Intl.DateTimeFormat(lang, opts).format(t);
    }
    if (field.choices && Object.prototype.hasOwnProperty.call(field.choices, String(value))) return field.choices[String(value)];
    return String(value);
  }

  function popupNode(spec, props) {
    const root = document.createElement("div");
    root.className = "map-popup";
    for (const field of spec.popup) {
      const value = props[field.property];
      if (value === undefined || value === null || value === "") continue;
      const line = document.createElement("div");
      if (field.label) {
        const label = document.createElement("span");
        label.className = "map-popup-label";
        label.textContent = field.label + ": ";
        line.appendChild(label);
      } else {
        line.className = "map-popup-heading";
      }
      const path = field.kind === "link" ? samePath(value) : null;
      if (path) {
        const a = document.createElement("a");
        a.href = path;
        const text = field.text_property ? props[field.text_property] : null;
        a.textContent = text === undefined || text === null || text === "" ? path : String(text);
        line.appendChild(a);
      } else {
        line.appendChild(document.createTextNode(display(field, value)));
      }
      root.appendChild(line);
    }
    return root;
  }

  function tooltipNode(spec, props) {
    const span = document.createElement("span");
    span.textContent = spec.tooltip.map((p) => props[p]).filter((v) => v !== undefined && v !== null && v !== "").join(" · ");
    return span;
  }

  function rampValue(rule, x) {
    const stops = rule.stops;
    if (rule.attribute === "colour") {
      let out = null;
      for (const [at, value] of stops) if (x >= at) out = value;
      return out === null ? stops[0][1] : out;
    }
    if (x <= stops[0][0]) return stops[0][1];
    for (let i = 1; i < stops.length; i += 1) {
      const [a, va] = stops[i - 1];
      const [b, vb] = stops[i];
      if (x <= b) return va + ((vb - va) * (x - a)) / (b - a);
    }
    return stops[stops.length - 1][1];
  }

  function styleOf(spec, props) {
    const s = Object.assign({}, spec.style);
    const own = spec.colour_property ? props[spec.colour_property] : null;
    if (typeof own === "string" && COLOUR.test(own)) s.colour = own;
    for (const rule of spec.style_by) {
      const value = props[rule.property];
      if (value === undefined || value === null) continue;
      if (rule.type === "categorical") {
        if (Object.prototype.hasOwnProperty.call(rule.values, String(value))) s[rule.attribute] = rule.values[String(value)];
      } else if (Number.isFinite(Number(value))) {
        s[rule.attribute] = rampValue(rule, Number(value));
      }
    }
    return s;
  }

  // Leaflet options for one feature. L.geoJSON applies `style` to every layer it makes, point
  // markers and circles included (resetStyle), so this one function must be right for each kind.
  function featureStyle(spec, f) {
    const props = f.properties || {};
    const s = styleOf(spec, props);
    const type = f.geometry && f.geometry.type;
    const point = type === "Point" || type === "MultiPoint";
    const options = {
      // A feature with a popup keeps its click (the canvas renderer does so anyway; SVG would
      // pass it on to the map's click action, which would replace the popup).
      bubblingMouseEvents: spec.popup.length === 0,
      color: point ? s.outline || s.colour : s.colour,
      fillColor: s.colour,
      weight: s.weight,
      opacity: s.opacity,
      fillOpacity: point ? s.fill_opacity : Math.min(s.fill_opacity, 0.2),
    };
    if (point && spec.geometry === "area") {
      const km = Number(props[spec.radius_km_property]);
      options.radius = Number.isFinite(km) && km > 0 ? km * 1000 : 1;  // metres, for L.circle
      options.fillOpacity = Math.min(s.fill_opacity, 0.08);
    } else if (point) {
      options.radius = s.radius;  // pixels, for L.circleMarker
    }
    return options;
  }

  // The features a layer shows now: its filters and time slider applied.
  function visibleFeature(state, f) {
    const props = f.properties || {};
    for (const [property, test] of state.tests) if (!test(props[property])) return false;
    if (state.until !== null && state.spec.time_property) {
      const t = Date.parse(props[state.spec.time_property]);
      if (!Number.isNaN(t) && t > state.until) return false;
    }
    return true;
  }

  function buildLayer(map, state) {
    const spec = state.spec;
    const point = spec.geometry === "point" || spec.geometry === "area";
    const geo = L.geoJSON(null, {
      attribution: spec.attribution ? escapeText(spec.attribution) : undefined,
      filter: (f) => visibleFeature(state, f),
      style: (f) => featureStyle(spec, f),
      pointToLayer: (f, ll) => (spec.geometry === "area" ? L.circle(ll, featureStyle(spec, f)) : L.circleMarker(ll, featureStyle(spec, f))),
      onEachFeature: (f, l) => {
        const props = f.properties || {};
        if (spec.popup.length) l.bindPopup(() => popupNode(spec, props));
        if (spec.tooltip.length) l.bindTooltip(() => tooltipNode(spec, props), { sticky: !point });
      },
    });
    state.geo = geo;
    state.layer = spec.cluster
      ? L.markerClusterGroup({ maxClusterRadius: spec.cluster.radius_px, disableClusteringAtZoom: spec.cluster.disable_at_zoom || undefined, showCoverageOnHover: false, chunkedLoading: true })
      : geo;
    if (spec.cluster && spec.attribution) state.layer.getAttribution = () => escapeText(spec.attribution);
  }

  function redraw(state) {
    state.drawn = true;
    state.geo.clearLayers();
    state.geo.addData(state.data);
    if (state.spec.cluster) {
      state.layer.clearLayers();
      state.layer.addLayers(state.geo.getLayers());
    }
    state.el.dataset[`shown${state.key}`] = String(state.geo.getLayers().length);
  }

  // Leaflet writes attributions as HTML: declared text is escaped before it gets there.
  function escapeText(text) {
    const div = document.createElement("div");
    div.textContent = text;
    return div.innerHTML;
  }

  function placeByZoom(map, state) {
    const want = state.on && (state.spec.min_zoom === null || map.getZoom() >= state.spec.min_zoom);
    if (want && !map.hasLayer(state.layer)) state.layer.addTo(map);
    if (!want && map.hasLayer(state.layer)) map.removeLayer(state.layer);
  }

  function wireControls(map, el, states, base) {
    const panel = el.dataset.panel && document.getElementById(el.dataset.panel);
    const form = panel && panel.querySelector("form.map-controls");
    if (!form) return;
    // On a phone the open panel would cover the map: start folded.
    if (window.matchMedia("(max-width: 720px)").matches) panel.querySelector("details").open = false;
    const members = form.querySelector("[data-base-toggle=members]");
    if (members) members.addEventListener("change", () => (members.checked ? base.members.addTo(map) : map.removeLayer(base.members)));
    for (const state of states) {
      const id = state.spec.id;
      const toggle = form.querySelector(`[data-layer-toggle="${id}"]`);
      if (toggle) toggle.addEventListener("change", () => { state.on = toggle.checked; placeByZoom(map, state); });
      const boxes = [...form.querySelectorAll(`[data-filter="${id}"][data-kind=choice]`)];
      const byProperty = new Map();
      for (const box of boxes) {
        if (!byProperty.has(box.dataset.property)) byProperty.set(box.dataset.property, []);
        byProperty.get(box.dataset.property).push(box);
      }
      const selects = [...form.querySelectorAll(`[data-filter="${id}"][data-kind=minimum]`)];
      const slider = form.querySelector(`[data-time="${id}"]`);
      const out = form.querySelector(`[data-time-out="${id}"]`);
      const times = state.spec.time_property
        ? state.data.features.map((f) => Date.parse((f.properties || {})[state.spec.time_property])).filter((t) => !Number.isNaN(t))
        : [];
      const tMin = times.length ? Math.min(...times) : Date.now();
      const tMax = times.length ? Math.max(...times) : Date.now();
      const update = () => {
        state.tests = [];
        for (const [property, group] of byProperty) {
          const listed = new Set(group.map((b) => b.value));
          const ticked = new Set(group.filter((b) => b.checked).map((b) => b.value));
          // A value no box names stays visible: a filter never hides data by omission.
          state.tests.push([property, (v) => !listed.has(String(v)) || ticked.has(String(v))]);
        }
        for (const select of selects) {
          const least = Number(select.value);
          state.tests.push([select.dataset.property, (v) => !Number.isFinite(Number(v)) || Number(v) >= least]);
        }
        if (slider) {
          state.until = tMin + ((tMax - tMin) * Number(slider.value)) / Number(slider.max);
          if (out) out.textContent = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeZone: "UTC" }).format(new Date(state.until));
        }
        redraw(state);
      };
      // Only this layer's own controls redraw it: toggling a cable layer must not rebuild incidents.
      const own = new Set([...boxes, ...selects, slider].filter(Boolean));
      const onInput = (e) => { if (own.has(e.target)) update(); };
      form.addEventListener("input", onInput);  // checkboxes and selects fire input too
      update();
    }
  }

  function clickAction(map, el) {
    const path = samePath(el.dataset.clickUrl);
    if (!path) return;
    map.on("click", (e) => {
      const lat = e.latlng.lat.toFixed(5);
      const lon = L.Util.wrapNum(e.latlng.lng, [-180, 180], true).toFixed(5);
      const root = document.createElement("div");
      root.appendChild(document.createTextNode(`${lat}, ${lon}`));
      root.appendChild(document.createElement("br"));
      const a = document.createElement("a");
      a.href = `${path}${path.includes("?") ? "&" : "?"}lat=${lat}&lon=${lon}`;
      a.className = ["map-click-link", el.dataset.clickClass || ""].join(" ").trim();
      a.textContent = el.dataset.clickLabel || "";
      root.appendChild(a);
      L.popup().setLatLng(e.latlng).setContent(root).openOn(map);
    });
  }

  async function load(spec) {
    if (spec.data) return spec.data;
    const res = await fetch(spec.url, { credentials: "same-origin" });
    if (!res.ok) throw new Error(`${spec.url}: HTTP ${res.status}`);
    const data = await res.json();
    return data && Array.isArray(data.features) ? data : { type: "FeatureCollection", features: [] };
  }

  async function draw(el) {
    if (el.dataset.mufakatMapStarted) return;
    el.dataset.mufakatMapStarted = "1";
    const specs = JSON.parse(el.dataset.layers || "[]");
    const [lat, lon, zoom] = (el.dataset.view || "8,112,4.5").split(",").map(Number);
    // No tile layer sets a zoom range, and markercluster needs a finite maxZoom.
    const map = L.map(el, { preferCanvas: true, worldCopyJump: true, zoomSnap: 0.5, minZoom: 2, maxZoom: 14 }).setView([lat, lon], zoom);
    map.attributionControl.setPrefix(false);
    map.attributionControl.addAttribution("Made with Natural Earth");
    const base = await window.Mufakat.basemap(map, el);
    const states = [];
    await Promise.all(specs.map(async (spec) => {
      try {
        const key = spec.id.replace(/(^|[-_])([a-z0-9])/g, (m, sep, c) => c.toUpperCase());
        const state = { spec, el, key, data: await load(spec), tests: [], until: null, on: spec.visible };
        buildLayer(map, state);
        states.push(state);
      } catch (err) {
        console.warn("map layer failed", spec.id, err);
      }
    }));
    // Keep the declared order (Promise.all finishes in any order): later layers draw on top.
    states.sort((a, b) => specs.indexOf(a.spec) - specs.indexOf(b.spec));
    wireControls(map, el, states, base);
    for (const state of states) if (!state.drawn) redraw(state);
    for (const state of states) placeByZoom(map, state);
    map.on("zoomend", () => { for (const state of states) placeByZoom(map, state); });
    if (el.dataset.fit === "1") {
      const bounds = L.latLngBounds([]);
      for (const state of states) if (state.geo.getLayers().length) bounds.extend(state.geo.getBounds());
      if (bounds.isValid()) map.fitBounds(bounds, { padding: [20, 20], maxZoom: 9, animate: false });
    }
    clickAction(map, el);
    const scale = L.control.scale({ imperial: false }).addTo(map);
    // One line of attribution, cut with an ellipsis beside the scale bar; the full text is its title.
    const attribution = map.attributionControl.getContainer();
    const fitAttribution = () => {
      attribution.style.maxWidth = `${Math.max(80, el.clientWidth - scale.getContainer().offsetWidth - 30)}px`;
      attribution.title = attribution.textContent;
    };
    map.on("resize layeradd layerremove", fitAttribution);
    fitAttribution();
    el.mufakatMap = map;
    el.dataset.ready = "1";
  }

  for (const el of document.querySelectorAll("[data-mufakat-map]")) draw(el);
})();
