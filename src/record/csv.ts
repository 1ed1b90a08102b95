// RECORD's CSV, read as Python's `csv.reader` reads it with the default (excel) dialect, which is what
// pip and the wheel spec write: fields split at `,`, a field quoted with `"` may hold commas, line breaks
// and `""` for a quote; rows end at `\r\n`, `\n` or `\r`. Pure logic.

export interface CsvRow {
  fields: string[];
  /** The line the row starts on, from 1. */
  line: number;
}

export interface CsvResult {
  /** Rows read before any error; empty rows are left out. */
  rows: CsvRow[];
  /** Where reading stopped: a quoted field never closed (Python's "unexpected end of data"). */
  error?: { line: number; message: string };
}

export function parseRecordCsv(text: string): CsvResult {
  const rows: CsvRow[] = [];
  let fields: string[] = [];
  let field = "";
  let line = 1;
  let rowLine = 1;
  let quoted = false;
  let inQuotes = false;
  const endField = () => {
    fields.push(field);
    field = "";
    quoted = false;
  };
  const endRow = () => {
    endField();
    if (!(fields.length === 1 && fields[0] === "")) rows.push({ fields, line: rowLine });
    fields = [];
  };
  for (let index = 0; index < text.length; index++) {
    const char = text[index]!;
    if (inQuotes) {
      if (char === '"') {
        if (text[index + 1] === '"') {
          field += '"';
          index++;
        } else inQuotes = false;
      } else {
        if (char === "\n" || (char === "\r" && text[index + 1] !== "\n")) line++;
        field += char;
      }
      continue;
    }
    if (char === ",") endField();
    else if (char === "\r" || char === "\n") {
      if (char === "\r" && text[index + 1] === "\n") index++;
      endRow();
      line++;
      rowLine = line;
    } else if (char === '"' && field === "" && !quoted) {
      inQuotes = true;
      quoted = true;
    } else field += char; // as Python's non-strict reader: a stray quote is kept as text
  }
  if (inQuotes) return { rows, error: { line: rowLine, message: "a quoted field is never closed" } };
  if (field !== "" || fields.length > 0) endRow();
  return { rows };
}
