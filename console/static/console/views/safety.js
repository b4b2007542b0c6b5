import { clear, h } from '../dom.js';

export function render(ctx) { clear(ctx.root, h('p', {}, 'safety')); }
