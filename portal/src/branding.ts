// Branding from the session: the brand colour as CSS custom properties with readable text on it, and the theme.
import type { Branding } from './types';

type Rgb = [number, number, number];

function parseHex(color: string): Rgb | null {
  const match = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color.trim());
  if (!match) return null;
  const hex = match[1]!.length === 3 ? [...match[1]!].map((c) => c + c).join('') : match[1]!;
  return [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16)) as Rgb;
}

function luminance([r, g, b]: Rgb): number {
  const channel = (v: number) => {
    const s = v / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
}

function contrast(a: Rgb, b: Rgb): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

function mix(color: Rgb, toward: Rgb, amount: number): Rgb {
  return color.map((v, i) => Math.round(v + (toward[i]! - v) * amount)) as Rgb;
}

const hex = (color: Rgb) => `#${color.map((v) => v.toString(16).padStart(2, '0')).join('')}`;

const WHITE: Rgb = [255, 255, 255];
const BLACK: Rgb = [0, 0, 0];
// The page backgrounds of styles.css, light and dark.
const LIGHT_BACKGROUND: Rgb = [255, 255, 255];
const DARK_BACKGROUND: Rgb = [21, 24, 30];

/** The brand colour moved toward black or white just enough to read as text (4.5:1) on `background`. */
function readableOn(color: Rgb, background: Rgb, toward: Rgb): Rgb {
  for (let step = 0; step <= 20; step++) {
    const candidate = mix(color, toward, step / 20);
    if (contrast(candidate, background) >= 4.5) return candidate;
  }
  return toward;
}

export function applyBranding(branding: Branding | null | undefined): void {
  const root = document.documentElement;
  const theme = branding?.theme;
  if (theme === 'light' || theme === 'dark') root.dataset.theme = theme;
  else delete root.dataset.theme;

  const brand = branding?.color ? parseHex(branding.color) : null;
  if (!brand) return;
  // Text on a brand-coloured button: whichever of white or black contrasts more.
  const onBrand = contrast(brand, WHITE) >= contrast(brand, BLACK) ? WHITE : BLACK;
  root.style.setProperty('--brand', hex(brand));
  root.style.setProperty('--on-brand', hex(onBrand));
  root.style.setProperty('--brand-text-light', hex(readableOn(brand, LIGHT_BACKGROUND, BLACK)));
  root.style.setProperty('--brand-text-dark', hex(readableOn(brand, DARK_BACKGROUND, WHITE)));
}
