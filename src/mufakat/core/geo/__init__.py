"""Geography shared by every module: `geometry` (coordinates, distances, GeoJSON/KML, display) and `sealanes` (routing over the sea-lane network)."""
