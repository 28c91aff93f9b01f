/**
 * Agent attributes, Mesos's `--attributes rack:r1;zone:a`: entries separated by ';', each
 * `name:value` split at the first ':'. Values are kept as text (Mesos's scalar, range and
 * set attributes are written the same way; interpreting them is the framework's business).
 */
import { AttributesParseError } from './errors.js';

const MAX_NAME = 128;
const MAX_VALUE = 1024;
const NAME = /^[A-Za-z0-9_.\-/]+$/;

/** Parses `rack:r1;zone:a` into `{ rack: 'r1', zone: 'a' }`; throws AttributesParseError naming the bad entry. */
export function parseAttributes(text: string): Record<string, string> {
  const attributes = new Map<string, string>(); // a Map: a name like "__proto__" stays a plain key
  for (const raw of text.split(';')) {
    const entry = raw.trim();
    if (entry === '') continue; // "a:1;" and "" are fine, as in Mesos
    const colon = entry.indexOf(':');
    if (colon < 0) throw new AttributesParseError(entry, 'expected name:value');
    const name = entry.slice(0, colon).trim();
    const value = entry.slice(colon + 1).trim();
    if (name === '') throw new AttributesParseError(entry, 'the name is empty');
    if (name.length > MAX_NAME) throw new AttributesParseError(entry, `the name is longer than ${MAX_NAME} characters`);
    if (!NAME.test(name)) throw new AttributesParseError(entry, 'the name may hold only letters, digits, "_", ".", "-" and "/"');
    if (value === '') throw new AttributesParseError(entry, 'the value is empty');
    if (value.length > MAX_VALUE) throw new AttributesParseError(entry, `the value is longer than ${MAX_VALUE} characters`);
    if (attributes.has(name)) throw new AttributesParseError(entry, `attribute "${name}" is given twice`);
    attributes.set(name, value);
  }
  return Object.fromEntries(attributes);
}

/** Formats attributes back into `name:value;...` text, names sorted. */
export function formatAttributes(attributes: Readonly<Record<string, string>>): string {
  return Object.keys(attributes)
    .sort()
    .map((name) => `${name}:${attributes[name] ?? ''}`)
    .join(';');
}
