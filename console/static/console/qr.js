// A QR code as an SVG built with DOM nodes (the vendored encoder gives the modules; its HTML
// string helpers are not used, so nothing is parsed as markup). Text is encoded as UTF-8.

import qrcode from './vendor/qrcode-generator/qrcode.js';

const SVG = 'http://www.w3.org/2000/svg';
qrcode.stringToBytes = (text) => Array.from(new TextEncoder().encode(text));

/** An <svg role="img"> of `text` (error correction M, the smallest version that holds it). */
export function qrSvg(text, { label = '', moduleSize = 4, margin = 4 } = {}) {
  const qr = qrcode(0, 'M');
  qr.addData(text, 'Byte');
  qr.make();
  const count = qr.getModuleCount();
  const size = count + margin * 2;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${size} ${size}`);
  svg.setAttribute('width', String(size * moduleSize));
  svg.setAttribute('height', String(size * moduleSize));
  svg.setAttribute('role', 'img');
  svg.setAttribute('class', 'qr');
  svg.dataset.modules = String(count);
  if (label) svg.setAttribute('aria-label', label);
  const background = document.createElementNS(SVG, 'rect');
  background.setAttribute('width', String(size));
  background.setAttribute('height', String(size));
  background.setAttribute('fill', '#fff');
  svg.append(background);
  // One path for the dark modules: a unit square per module, drawn with relative moves.
  let d = '';
  for (let row = 0; row < count; row += 1) {
    for (let col = 0; col < count; col += 1) {
      if (qr.isDark(row, col)) d += `M${col + margin} ${row + margin}h1v1h-1z`;
    }
  }
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', d);
  path.setAttribute('fill', '#000');
  path.setAttribute('shape-rendering', 'crispEdges');
  svg.append(path);
  return svg;
}
