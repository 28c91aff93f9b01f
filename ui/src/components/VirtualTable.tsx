/**
 * A table that renders only the rows in view (plus a few), so 10,000 tasks cost as much as
 * thirty: rows have a fixed height, the body scrolls, and the visible slice follows scrollTop.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

/** One column: its title, its CSS width and how a row shows in it. */
export interface Column<T> {
  title: string;
  width: string;
  render: (row: T) => ComponentChildren;
}

/** Props of VirtualTable. */
export interface VirtualTableProps<T> {
  rows: readonly T[];
  columns: ReadonlyArray<Column<T>>;
  /** A stable key per row. */
  rowKey: (row: T) => string;
  /** Where a click on the row goes (a hash link), if anywhere. */
  rowHref?: (row: T) => string;
  /** data-testid of each row. */
  rowTestId?: string;
  /** Shown when there are no rows. */
  empty?: string;
  /** Height of the scrolling body in px (default 480). */
  height?: number;
}

const ROW_HEIGHT = 30;
const OVERSCAN = 10;

/** A virtualised table. */
export function VirtualTable<T>(props: VirtualTableProps<T>) {
  const body = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const height = props.height ?? 480;
  const template = props.columns.map((c) => c.width).join(' ');
  useEffect(() => {
    // A filter that shortens the list must not leave the view scrolled past its end.
    const el = body.current;
    if (el !== null && el.scrollTop > props.rows.length * ROW_HEIGHT) el.scrollTop = 0;
  }, [props.rows.length]);
  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(props.rows.length, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
  const visible = props.rows.slice(first, last);
  return (
    <div class="vtable" role="table" data-rows={props.rows.length}>
      <div class="vrow vhead" role="row" style={{ gridTemplateColumns: template }}>
        {props.columns.map((c) => (
          <div role="columnheader" key={c.title}>
            {c.title}
          </div>
        ))}
      </div>
      {props.rows.length === 0 ? (
        <div class="empty">{props.empty ?? 'nothing to show'}</div>
      ) : (
        <div class="vbody" ref={body} style={{ height: `${Math.min(height, props.rows.length * ROW_HEIGHT + 2)}px` }} onScroll={(e) => setScrollTop((e.currentTarget as HTMLDivElement).scrollTop)}>
          <div style={{ height: `${props.rows.length * ROW_HEIGHT}px`, position: 'relative' }}>
            {visible.map((row, i) => {
              const link = props.rowHref?.(row);
              return (
                <div
                  key={props.rowKey(row)}
                  class={`vrow${link !== undefined ? ' link' : ''}`}
                  role="row"
                  data-testid={props.rowTestId}
                  data-key={props.rowKey(row)}
                  style={{ gridTemplateColumns: template, top: `${(first + i) * ROW_HEIGHT}px` }}
                  onClick={link === undefined ? undefined : () => (location.hash = link)}
                >
                  {props.columns.map((c) => (
                    <div role="cell" key={c.title}>
                      {c.render(row)}
                    </div>
                  ))}
                </div>
              );
            })}
          </div>
        </div>
      )}
    </div>
  );
}
