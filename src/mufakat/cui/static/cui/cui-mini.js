// Small map on incident and asset pages: the position, the impact radius and affected routes.
/* global L */
(async function () {
  const el = document.getElementById("cui-mini");
  if (!el) return;
  const spec = JSON.parse(el.dataset.map);
  const map = L.map(el, { preferCanvas: true, zoomSnap: 0.5 }).setView([4, 110], 4);
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution("Made with Natural Earth");
  if (el.dataset.attribution) map.attributionControl.addAttribution(el.dataset.attribution);
  await window.Mufakat.basemap(map, el);
  const group = L.featureGroup().addTo(map);
  L.geoJSON({ type: "FeatureCollection", features: spec.assets || [] }, {
    style: (f) => ({ color: f.properties.colour || "#0e7490", weight: 2.5 }),
  }).addTo(group);
  if (spec.incident) {
    const [lon, lat] = spec.incident.geometry.coordinates;
    L.circle([lat, lon], { radius: spec.radius_km * 1000, color: "#b42318", weight: 1, fillOpacity: 0.08 }).addTo(group);
    L.circleMarker([lat, lon], { radius: 8, color: "#111", weight: 1, fillColor: spec.incident.properties.colour, fillOpacity: 1 }).addTo(group);
  }
  if (group.getLayers().length) map.fitBounds(group.getBounds(), { padding: [20, 20], maxZoom: 9 });
})();
