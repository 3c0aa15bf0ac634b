// Undersea infrastructure map: cables, pipelines, landing points, incidents (filtered by status,
// severity and a time slider); clicking the map offers to report an incident at that position.
/* global L */
(async function () {
  const el = document.getElementById("cui-map");
  if (!el) return;
  const urls = JSON.parse(el.dataset.layers);
  const map = L.map(el, { preferCanvas: true, worldCopyJump: true, zoomSnap: 0.5 }).setView([4, 110], 5);
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution("Made with Natural Earth");
  map.attributionControl.addAttribution(el.dataset.cableAttribution);
  map.attributionControl.addAttribution(el.dataset.pipelineAttribution);
  const base = await window.Mufakat.basemap(map, el);
  const get = (u) => fetch(u, { credentials: "same-origin" }).then((r) => (r.ok ? r.json() : { features: [] }));
  const [cables, pipes, points, incidents] = await Promise.all([
    get(urls.cables), get(urls.pipelines), get(urls.landing_points), get(urls.incidents),
  ]);
  const esc = (s) => String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  const routeLayer = (data, colour) => L.geoJSON(data, {
    style: (f) => ({ color: f.properties.colour || colour, weight: 2, opacity: 0.8 }),
    onEachFeature: (f, l) => l.bindPopup(`<a href="${el.dataset.assetBase}${f.properties.id}/">${esc(f.properties.name)}</a>`),
  });
  const cableLayer = routeLayer(cables, "#0e7490").addTo(map);
  const pipeLayer = routeLayer(pipes, "#7c3aed").addTo(map);
  const lpLayer = L.geoJSON(points, {
    pointToLayer: (f, ll) => L.circleMarker(ll, { radius: 3, color: "#0f172a", weight: 1, fillColor: "#fff", fillOpacity: 1 }),
    onEachFeature: (f, l) => l.bindTooltip(`${esc(f.properties.name)} (${esc(f.properties.country)})`),
  });
  const incidentLayer = L.layerGroup().addTo(map);
  const feats = incidents.features || [];
  const times = feats.map((f) => Date.parse(f.properties.occurred_at)).filter((t) => !Number.isNaN(t));
  const tMin = times.length ? Math.min(...times) : Date.now();
  const tMax = times.length ? Math.max(...times) : Date.now();
  const form = document.getElementById("cui-filters");
  const slider = document.getElementById("cui-time");
  const out = document.getElementById("cui-time-out");
  function draw() {
    const fd = new FormData(form);
    const showOpen = fd.get("open") !== null;
    const showDone = fd.get("done") !== null;
    const minSev = Number(fd.get("severity") || 1);
    const limit = tMin + ((tMax - tMin) * Number(slider.value)) / 100;
    out.textContent = new Date(limit).toISOString().slice(0, 10);
    incidentLayer.clearLayers();
    for (const f of feats) {
      const p = f.properties;
      const done = p.status === "restored" || p.status === "closed";
      if ((done && !showDone) || (!done && !showOpen) || p.severity < minSev) continue;
      if (Date.parse(p.occurred_at) > limit) continue;
      const [lon, lat] = f.geometry.coordinates;
      L.circleMarker([lat, lon], { radius: 6 + p.severity * 2, color: "#111", weight: 1, fillColor: p.colour, fillOpacity: 0.9 })
        .bindPopup(`<strong><a href="${esc(p.url)}">${esc(p.reference)}</a></strong><br>${esc(p.name)}<br>${esc(p.incident_type)} · ${esc(p.status)} · ${esc(p.owner)}`)
        .addTo(incidentLayer);
    }
    el.dataset.incidentsShown = String(incidentLayer.getLayers().length);
  }
  form.addEventListener("input", draw);
  draw();
  L.control.layers(null, {
    [el.dataset.membersLabel]: base.members,
    [el.dataset.cablesLabel]: cableLayer,
    [el.dataset.pipelinesLabel]: pipeLayer,
    [el.dataset.landingPointsLabel]: lpLayer,
    [el.dataset.incidentsLabel]: incidentLayer,
  }, { collapsed: window.innerWidth < 720 }).addTo(map);
  L.control.scale({ imperial: false }).addTo(map);
  if (el.dataset.canReport === "1") {
    map.on("click", (e) => {
      const lat = e.latlng.lat.toFixed(5);
      const lon = L.Util.wrapNum(e.latlng.lng, [-180, 180], true).toFixed(5);
      const href = `${urls.report}?lat=${lat}&lon=${lon}`;
      L.popup().setLatLng(e.latlng)
        .setContent(`${lat}, ${lon}<br><a class="cui-report-here" href="${href}">${esc(el.dataset.reportLabel)}</a>`)
        .openOn(map);
    });
  }
  el.dataset.ready = "1";
})();
