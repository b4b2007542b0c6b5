// The map: Leaflet (vendored), tiles by setting. The API speaks WGS-84. When the tiles are
// drawn in GCJ-02 (AMap), points are shifted for display here (the API has no GCJ-02 output
// for tasks, residents or reports), and a click is sent back as GCJ-02 with `datum: GCJ02`,
// so the server — not the console — converts what is stored (DESIGN.md principle 6).

import * as L from './vendor/leaflet/leaflet-src.esm.js';
import { getConfig } from './api.js';

const tiles = getConfig().tiles;
export const gcj = tiles.datum === 'GCJ02';

// WGS-84 -> GCJ-02, the published approximation (accurate to about a metre in China).
const A = 6378245.0;
const EE = 0.00669342162296594323;
function outOfChina(lat, lng) { return lng < 72.004 || lng > 137.8347 || lat < 0.8293 || lat > 55.8271; }
function tLat(x, y) {
  let r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
  r += (20 * Math.sin(y * Math.PI) + 40 * Math.sin(y / 3 * Math.PI)) * 2 / 3;
  r += (160 * Math.sin(y / 12 * Math.PI) + 320 * Math.sin(y * Math.PI / 30)) * 2 / 3;
  return r;
}
function tLng(x, y) {
  let r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
  r += (20 * Math.sin(x * Math.PI) + 40 * Math.sin(x / 3 * Math.PI)) * 2 / 3;
  r += (150 * Math.sin(x / 12 * Math.PI) + 300 * Math.sin(x / 30 * Math.PI)) * 2 / 3;
  return r;
}
export function wgsToGcj(lat, lng) {
  if (outOfChina(lat, lng)) return [lat, lng];
  let dLat = tLat(lng - 105, lat - 35);
  let dLng = tLng(lng - 105, lat - 35);
  const rad = lat / 180 * Math.PI;
  let magic = Math.sin(rad);
  magic = 1 - EE * magic * magic;
  const sq = Math.sqrt(magic);
  dLat = (dLat * 180) / ((A * (1 - EE)) / (magic * sq) * Math.PI);
  dLng = (dLng * 180) / (A / sq * Math.cos(rad) * Math.PI);
  return [lat + dLat, lng + dLng];
}

/** A WGS-84 point from the API -> the map's coordinates. */
export function toMap(location) {
  if (!location) return null;
  return gcj ? wgsToGcj(location.latitude, location.longitude) : [location.latitude, location.longitude];
}

/** A click on the map -> a LocationInput the API converts (datum says which). */
export function fromMap(latlng) {
  return {
    latitude: Number(latlng.lat.toFixed(6)),
    longitude: Number(latlng.lng.toFixed(6)),
    datum: gcj ? 'GCJ02' : 'WGS84',
  };
}

export function createMap(element, { onClick } = {}) {
  const config = getConfig();
  const map = L.map(element, { zoomControl: true, keyboard: true }).setView(config.center, config.zoom);
  if (tiles.url) {
    L.tileLayer(tiles.url, {
      attribution: tiles.attribution,
      subdomains: tiles.subdomains || 'abc',
      maxZoom: tiles.maxZoom || 19,
    }).addTo(map);
  } else {
    element.classList.add('no-tiles');
  }
  if (onClick) map.on('click', (event) => onClick(fromMap(event.latlng), event.latlng));
  const layers = {};
  // On a phone the layer list folds into its button, leaving the map to the map.
  const control = L.control.layers(null, {}, { collapsed: window.innerWidth < 820 }).addTo(map);
  return {
    map,
    L,
    /** A layer the viewer can switch on and off (unlabelled: always shown, not listed). */
    layer(name, label) {
      if (!layers[name]) {
        layers[name] = L.layerGroup().addTo(map);
        if (label) control.addOverlay(layers[name], label);
      }
      return layers[name];
    },
    fit(points) {
      const valid = points.filter(Boolean);
      if (valid.length === 1) map.setView(valid[0], Math.max(map.getZoom(), 15));
      else if (valid.length > 1) map.fitBounds(L.latLngBounds(valid).pad(0.2), { maxZoom: 16 });
    },
    invalidate() { setTimeout(() => map.invalidateSize(), 0); },
    remove() { map.remove(); },
  };
}

// A coloured dot with a text label for screen readers and tooltips.
export function dot(L, latlng, { color = '#c0392b', radius = 8, label = '', className = '' } = {}) {
  const marker = L.circleMarker(latlng, {
    radius, color: '#fff', weight: 2, fillColor: color, fillOpacity: 0.95, className,
  });
  if (label) marker.bindTooltip(label);
  return marker;
}

/**
 * GeoJSON from the API, asked for in the tiles' datum (`boundary(datum: GCJ02)` when the tiles
 * are GCJ-02): the server converted it, so it is drawn as it is.
 */
export function geoJsonLayer(L, geojson, style) {
  return L.geoJSON(geojson, { style });
}
