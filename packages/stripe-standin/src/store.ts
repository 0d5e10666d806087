import { invalidParam } from "./errors.ts";
import type { LineItem, StripeEvent, StripeList, StripeObject, StripeObjectKind, StripeObjectOf } from "./objects.ts";

/** In-memory state of one stand-in: every object by id, plus what Stripe keeps beside an object. */
export class StripeStore {
  private readonly objects = new Map<string, StripeObject>();
  private readonly sessionLineItems = new Map<string, LineItem[]>();
  private readonly eventLog: StripeEvent[] = [];

  put<T extends StripeObject>(object: T): T {
    this.objects.set(object.id, object);
    return object;
  }

  /** The live object (mutable, for the stand-in's own state changes); callers outside get `snapshot`. */
  find<K extends StripeObjectKind>(kind: K, id: string): StripeObjectOf<K> | undefined {
    const object = this.objects.get(id);
    return object?.object === kind ? (object as StripeObjectOf<K>) : undefined;
  }

  all<K extends StripeObjectKind>(kind: K): StripeObjectOf<K>[] {
    return [...this.objects.values()].filter((o): o is StripeObjectOf<K> => o.object === kind);
  }

  setLineItems(sessionId: string, items: LineItem[]): void {
    this.sessionLineItems.set(sessionId, items);
  }

  lineItems(sessionId: string): LineItem[] {
    return this.sessionLineItems.get(sessionId) ?? [];
  }

  lineItemList(sessionId: string): StripeList<LineItem> {
    return {
      object: "list",
      data: structuredClone(this.lineItems(sessionId)),
      has_more: false,
      url: `/v1/checkout/sessions/${sessionId}/line_items`,
    };
  }

  recordEvent(event: StripeEvent): void {
    this.eventLog.push(event);
  }

  event(id: string): StripeEvent | undefined {
    return this.eventLog.find((e) => e.id === id);
  }

  events(): StripeEvent[] {
    return [...this.eventLog];
  }

  clear(): void {
    this.objects.clear();
    this.sessionLineItems.clear();
    this.eventLog.length = 0;
  }

  /**
   * Stripe's `expand[]`: replace id strings with the objects they name, along dotted paths
   * (`payment_intent.latest_charge`). Only the fields Stripe documents as expandable are.
   */
  expand<T extends StripeObject>(object: T, paths: readonly string[]): T {
    const copy = structuredClone(object);
    for (const path of paths) this.expandPath(copy as unknown as Record<string, unknown>, path.split("."), path);
    return copy;
  }

  private expandPath(target: Record<string, unknown>, [field, ...rest]: string[], fullPath: string): void {
    const kind = target.object as StripeObjectKind;
    const rule = field === undefined ? undefined : EXPANDABLE[kind]?.[field];
    if (!rule || field === undefined) {
      throw invalidParam("expand", `This property cannot be expanded (${fullPath}).`);
    }
    const value = target[field];
    if (typeof value === "string") target[field] = rule(this, value, target);
    else if (value === undefined && field === "line_items") target[field] = rule(this, "", target);
    const expanded = target[field];
    if (rest.length > 0 && expanded && typeof expanded === "object") {
      this.expandPath(expanded as Record<string, unknown>, rest, fullPath);
    }
  }
}

type Expander = (store: StripeStore, id: string, parent: Record<string, unknown>) => unknown;
const byId: Expander = (store, id) => {
  for (const kind of ["customer", "checkout.session", "payment_intent", "charge"] as const) {
    const found = store.find(kind, id);
    if (found) return structuredClone(found);
  }
  return id;
};

const EXPANDABLE: Partial<Record<StripeObjectKind, Record<string, Expander>>> = {
  "checkout.session": {
    customer: byId,
    payment_intent: byId,
    line_items: (store, _id, session) => store.lineItemList(String(session.id)),
  },
  payment_intent: { customer: byId, latest_charge: byId },
  charge: { customer: byId, payment_intent: byId },
};
