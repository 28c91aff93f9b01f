/**
 * The workload framework's journal: append-only JSON lines, one `JournalEntry` each,
 * written synchronously so that what a SIGKILLed process wrote is on disk (the kernel has
 * it) and its successor, and the checker, read it back. A torn last line is skipped.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import type { JournalEntry } from './types.js';

/** Appends one entry. */
export function appendJournal(path: string, entry: JournalEntry): void {
  appendFileSync(path, JSON.stringify(entry) + '\n');
}

/** Every entry of the journal at `path`, in order (none when it does not exist). */
export function readJournal(path: string): JournalEntry[] {
  if (!existsSync(path)) return [];
  return parseJournal(readFileSync(path, 'utf8'));
}

/** Parses journal text; lines that do not parse (a write cut short by SIGKILL) are skipped. */
export function parseJournal(text: string): JournalEntry[] {
  const out: JournalEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as JournalEntry);
    } catch {
      // torn write
    }
  }
  return out;
}
