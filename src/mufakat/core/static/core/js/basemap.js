// Offline basemap: Natural Earth country polygons drawn as vector layers; no tile server needed.
/* global L */
window.Mufakat = window.Mufakat || {};
window.Mufakat.basemap = async function (map, el) {
  map.createPane("basemap");
  map.getPane("basemap").style.zIndex = 200;
  const renderer = L.canvas({ pane: "basemap", padding: 0.5 });
  const load = (url) => fetch(url, { credentials: "same-origin" }).then((r) => {
    if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
    return r.json();
  });
  const [world, region] = await Promise.all([load(el.dataset.world), load(el.dataset.region)]);
  const other = L.geoJSON(world, {
    pane: "basemap", renderer, interactive: false,
    filter: (f) => !f.properties.ASEAN,
    style: { color: "#9aa7b8", weight: 0.6, fillColor: "#eef1f5", fillOpacity: 1 },
  }).addTo(map);
  const members = L.geoJSON(region, {
    pane: "basemap", renderer,
    filter: (f) => f.properties.ASEAN,
    style: { color: "#0b5394", weight: 1.2, fillColor: "#fdf6e3", fillOpacity: 1 },
    // A DOM node, not a string: Leaflet would parse a string tooltip as HTML.
    onEachFeature: (f, layer) => layer.bindTooltip(() => {
      const span = document.createElement("span");
      span.textContent = `${f.properties.NAME_LONG || f.properties.NAME} (${f.properties.ISO_A2})`;
      return span;
    }, { sticky: true }),
  }).addTo(map);
  const neighbours = L.geoJSON(region, {
    pane: "basemap", renderer, interactive: false,
    filter: (f) => !f.properties.ASEAN,
    style: { color: "#9aa7b8", weight: 0.6, fillColor: "#eef1f5", fillOpacity: 1 },
  }).addTo(map);
  members.bringToFront();
  map.getContainer().dataset.basemapFeatures = String(members.getLayers().length);
  map.getContainer().classList.add("basemap-ready");
  return { other, members, neighbours };
};
