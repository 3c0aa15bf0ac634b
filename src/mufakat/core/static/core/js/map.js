// The common map: offline basemap plus the overlay layers that installed modules contribute.
/* global L */
(async function () {
  const el = document.getElementById("map");
  if (!el) return;
  const map = L.map(el, { preferCanvas: true, worldCopyJump: true, zoomSnap: 0.5 }).setView([8, 112], 4.5);
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution("Made with Natural Earth");
  const base = await window.Mufakat.basemap(map, el);
  const overlays = { [el.dataset.membersLabel]: base.members };
  const layers = JSON.parse(el.dataset.layers || "[]");
  for (const spec of layers) {
    try {
      const res = await fetch(spec.url, { credentials: "same-origin" });
      if (!res.ok) continue;
      const data = await res.json();
      const layer = L.geoJSON(data, {
        style: (f) => ({ color: (f.properties && f.properties.colour) || spec.colour || "#0e7490", weight: spec.weight || 2, opacity: 0.85 }),
        pointToLayer: (f, ll) => L.circleMarker(ll, { radius: spec.radius || 5, color: (f.properties && f.properties.colour) || spec.colour || "#b42318", fillOpacity: 0.8 }),
        onEachFeature: (f, l) => { if (f.properties && f.properties.name) l.bindPopup(f.properties.popup || f.properties.name); },
      });
      if (spec.attribution) map.attributionControl.addAttribution(spec.attribution);
      if (spec.visible !== false) layer.addTo(map);
      overlays[spec.name] = layer;
    } catch (err) {
      console.warn("layer failed", spec.url, err);
    }
  }
  L.control.layers(null, overlays, { collapsed: window.innerWidth < 720 }).addTo(map);
  L.control.scale({ imperial: false }).addTo(map);
})();
