// The grids of the viewed area on a map: each grid's boundary (or the grid itself when a grid
// is viewed) and, for a community and above, the area's own outline. Shapes are asked for in
// the tiles' datum (`boundary(datum: GCJ02)` for AMap), so the server converts and nothing is
// shifted here. Only areas the API shows this person are drawn.

import { gql } from '../api.js';
import { nodes } from '../dom.js';
import { t } from '../i18n.js';
import { gcj, geoJsonLayer } from '../map.js';

const GRIDS = `query ConsoleGrids($datum: Datum, $after: String) {
  areas(kind: GRID, first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { id name center(datum: $datum) { latitude longitude } boundary(datum: $datum) } }
  }
}`;
const AREA = `query ConsoleAreaShape($id: ID!, $datum: Datum) {
  area(id: $id) { id name center(datum: $datum) { latitude longitude } boundary(datum: $datum) }
}`;

function asJson(value) { return typeof value === 'string' ? JSON.parse(value) : value; }

/** Draw on `map` (map.js's wrapper); resolves to the viewed area's shape and centre (or null). */
export async function drawGrids(map, ctx) {
  const { areaId, area } = ctx;
  const datum = gcj ? 'GCJ02' : 'WGS84';
  const inside = new Set(ctx.state.areas.filter((a) => a.id === areaId || a.ancestors.some((x) => x.id === areaId)).map((a) => a.id));
  const layer = map.layer('grids', t('layer.grids'));
  const grids = [];
  let after = null;
  for (let page = 0; page < 10; page += 1) {
    const data = await gql(GRIDS, { datum, after });
    grids.push(...nodes(data.areas).filter((a) => inside.has(a.id)));
    if (!data.areas.pageInfo.hasNextPage) break;
    after = data.areas.pageInfo.endCursor;
  }
  grids.filter((a) => a.boundary).forEach((a) => {
    geoJsonLayer(map.L, asJson(a.boundary), { color: '#34495e', weight: 2, fillOpacity: 0.05, className: 'grid-boundary' })
      .bindTooltip(a.name, { sticky: true }).addTo(layer);
  });
  const own = area.kind === 'GRID' ? grids.find((a) => a.id === areaId) || null : (await gql(AREA, { id: areaId, datum })).area;
  if (own && own.boundary && area.kind !== 'GRID') {
    geoJsonLayer(map.L, asJson(own.boundary), { color: '#c0392b', weight: 3, fill: false, dashArray: '6 4', interactive: false }).addTo(layer);
  }
  layer.eachLayer((shape) => shape.bringToBack && shape.bringToBack());
  return own;
}
