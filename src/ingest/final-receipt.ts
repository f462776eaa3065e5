/**
 * The final-receipt rule of docs/hq-api.md: of one message's receipts, the one with the
 * latest statusAt is the message's final state (and its chargeUsd the message's charge). On a tie
 * in statusAt the greater receiptId wins, compared by UTF-16 code unit exactly as JavaScript's `<`
 * compares strings: not localeCompare (which would order 'a' before 'B') and not numeric
 * ('r-10' < 'r-9'). This is a total order over distinct receipts, so the final state is a pure
 * function of the set of receipts, whatever order they arrive in.
 */

export interface ReceiptOrderKey {
  statusAtMs: number;
  receiptId: string;
}

/** Negative when `a` is earlier than `b` in the final-receipt order, positive when later, 0 when equal. */
export function compareReceiptOrder(a: ReceiptOrderKey, b: ReceiptOrderKey): number {
  if (a.statusAtMs !== b.statusAtMs) return a.statusAtMs < b.statusAtMs ? -1 : 1;
  if (a.receiptId === b.receiptId) return 0;
  return a.receiptId < b.receiptId ? -1 : 1;
}

/** The receipt that decides the message's final state, or undefined for none. */
export function pickFinal<T extends ReceiptOrderKey>(receipts: readonly T[]): T | undefined {
  let final: T | undefined;
  for (const receipt of receipts) {
    if (final === undefined || compareReceiptOrder(receipt, final) > 0) final = receipt;
  }
  return final;
}
