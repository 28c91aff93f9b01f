/**
 * How messages are declared: `message(TYPE, fields)` makes one message schema, and
 * `defineUnion(name, [...])` groups the messages one subject carries into a discriminated
 * union on `type`, remembering the known types so the codec can tell an unknown type
 * from an invalid message.
 */
import { z } from 'zod';

/** A message schema: a zod object whose `type` is the literal `T`. */
export type MessageSchema<T extends string = string, S extends z.ZodRawShape = z.ZodRawShape> = z.ZodObject<
  { type: z.ZodLiteral<T> } & S
>;

/** Declares one message type with its fields. */
export function message<T extends string, S extends z.ZodRawShape>(type: T, fields: S): MessageSchema<T, S> {
  return z.object({ type: z.literal(type), ...fields }) as unknown as MessageSchema<T, S>;
}

/** A non-empty list of message schemas. */
export type MessageSchemas = readonly [MessageSchema, ...MessageSchema[]];

/** The messages one subject carries: a discriminated union plus the list of its types. */
export interface MessageUnion<M extends MessageSchemas = MessageSchemas> {
  /** Name used in errors and logs, e.g. "SchedulerCall". */
  readonly name: string;
  /** The known values of `type`. */
  readonly types: ReadonlySet<string>;
  /** The schema of each known type. */
  readonly byType: ReadonlyMap<string, MessageSchema>;
  /** The zod discriminated union. */
  readonly schema: z.ZodDiscriminatedUnion<M>;
}

/** Groups message schemas into one union. */
export function defineUnion<const M extends MessageSchemas>(name: string, members: M): MessageUnion<M> {
  const byType = new Map<string, MessageSchema>();
  for (const m of members) {
    const type = m.shape.type.value;
    if (byType.has(type)) throw new Error(`${name}: message type ${type} declared twice`);
    byType.set(type, m);
  }
  return {
    name,
    types: new Set(byType.keys()),
    byType,
    schema: z.discriminatedUnion('type', members) as unknown as z.ZodDiscriminatedUnion<M>,
  };
}
