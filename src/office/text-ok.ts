/** A patient's Text OK (patients.text_ok): whether the office may text them, or not yet known. */
export type TextOk = 'yes' | 'no' | 'unknown';
