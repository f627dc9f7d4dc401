// @ts-check
/**
 * Building DOM without HTML strings: every text from the server becomes a text node, so nothing a
 * log line or a person's name contains can turn into markup.
 */

/** @typedef {string | number | boolean | null | undefined} AttrValue */
/** @typedef {Node | string | number | null | undefined | false} Child */

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * @param {Element} el
 * @param {Record<string, AttrValue | ((event: Event) => void)>} attrs
 * @param {Child[]} children
 */
function fill(el, attrs, children) {
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, ''), /** @type {EventListener} */ (value));
    else if (value === true) el.setAttribute(name, '');
    else if (value !== false && value !== null && value !== undefined) el.setAttribute(name, String(value));
  }
  append(el, children);
}

/**
 * Appends children; strings and numbers become text nodes, empty values are skipped.
 * @param {Element} el
 * @param {Child[]} children
 */
export function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'object' ? child : String(child));
  }
}

/**
 * An HTML element: `h('a', { href: '/tab/' }, 'Incidents')`. Attributes named `on…` with a
 * function are event listeners; `true` sets a boolean attribute; null, undefined and false omit it.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, AttrValue | ((event: Event) => void)>} [attrs]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  fill(el, attrs, children);
  return el;
}

/**
 * An SVG element, as {@link h}.
 * @template {keyof SVGElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, AttrValue | ((event: Event) => void)>} [attrs]
 * @param {...Child} children
 * @returns {SVGElementTagNameMap[K]}
 */
export function s(tag, attrs = {}, ...children) {
  const el = /** @type {SVGElementTagNameMap[K]} */ (document.createElementNS(SVG_NS, tag));
  fill(el, attrs, children);
  return el;
}

/**
 * Replaces an element's content.
 * @param {Element} el
 * @param {...Child} children
 */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/**
 * Text only people who use a screen reader hear.
 * @param {string} text
 */
export function hidden(text) {
  return h('span', { class: 'visually-hidden' }, text);
}
