/** time_availability checks of the hard validator: unpadded times ("9:00") are padded, duplicate slots removed. */
import type { DayMap, TimeAvailability } from '../schema.ts';
import { DAYS, emptyDayMap, emptyTimeAvailability } from '../schema.ts';
import { clip, isRecord } from './text.ts';
import type { Violation } from './violations.ts';

const SLOT = /^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$/;
const pad = (h: string, m: string): string => `${h.padStart(2, '0')}:${m}`;

/** "9:00 – 10:00" → "09:00-10:00" (unpadded hours are padded, not rejected); null with the reason otherwise. */
export function cleanSlot(slot: unknown): { slot: string | null; reason: string | null } {
  if (slot === null || slot === undefined) return { slot: null, reason: 'null_slot' };
  if (typeof slot !== 'string') return { slot: null, reason: 'non_string_slot' };
  const s = slot
    .replace(/[\u2012\u2013\u2014\u2212]/g, '-')
    .replace(/\s*-\s*/g, '-')
    .trim();
  if (s === '') return { slot: null, reason: 'empty_slot' };
  const m = SLOT.exec(s);
  if (!m) return { slot: null, reason: 'format' };
  const [, h1 = '', m1 = '', h2 = '', m2 = ''] = m;
  if (Number(h1) > 23 || Number(h2) > 23 || Number(m1) > 59 || Number(m2) > 59) return { slot: null, reason: 'clock' };
  const start = pad(h1, m1);
  const end = pad(h2, m2);
  if (start > end) return { slot: null, reason: 'start_after_end' };
  return { slot: `${start}-${end}`, reason: null };
}

function cleanDayMap(value: unknown, path: string, violations: Violation[]): DayMap {
  const out = emptyDayMap();
  if (!isRecord(value)) {
    violations.push({ field: path, code: 'TYPE', detail: 'expected object' });
    return out;
  }
  for (const day of DAYS) {
    const slots = value[day];
    if (slots === null || slots === undefined) continue;
    if (!Array.isArray(slots)) {
      violations.push({ field: `${path}.${day}`, code: 'TYPE', detail: 'expected list' });
      continue;
    }
    slots.slice(0, 200).forEach((raw, i) => {
      const { slot, reason } = cleanSlot(raw);
      if (reason) violations.push({ field: `${path}.${day}[${i}]`, code: 'TIME', detail: `${reason}: ${clip(String(raw), 200)}` });
      if (slot && !out[day].includes(slot)) out[day].push(slot);
    });
  }
  return out;
}

export function cleanTimeAvailability(value: unknown, violations: Violation[]): TimeAvailability {
  if (!isRecord(value)) {
    if (value !== null && value !== undefined) violations.push({ field: 'time_availability', code: 'TYPE', detail: 'expected object' });
    return emptyTimeAvailability();
  }
  let note: string | null = null;
  if (typeof value.note === 'string') note = value.note.trim() || null;
  else if (value.note !== null && value.note !== undefined)
    violations.push({ field: 'time_availability.note', code: 'TYPE', detail: 'expected string or null' });
  return {
    explicit: cleanDayMap(value.explicit, 'time_availability.explicit', violations),
    estimated: cleanDayMap(value.estimated, 'time_availability.estimated', violations),
    note,
  };
}
