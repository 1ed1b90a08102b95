// How a device tar reader sees a tar: upip's and MicroPython's `tarfile` read each 512-byte header's
// 100-byte name (as UTF-8, NULs stripped from the end) and the first 11 bytes of its size (`int(s, 8)`),
// call it a folder when the name ends in `/` and a file otherwise, and stop at a header whose name starts
// with NUL. Everything else is ignored: the type flag, the ustar prefix, pax and GNU records. This walk
// lists every header where that view differs from the archive's real content. Pure logic.

const BLOCK = 512;
const MAX_SHOWN = 20;

export interface DeviceTarView {
  /** Problems, each naming the header's byte offset; empty when a device reads the tar as intended. */
  problems: string[];
  /** Headers a device reads (members and records alike). */
  headers: number;
}

const TYPE_NAMES: Record<string, string> = {
  "1": "hard link", "2": "symbolic link", "3": "character device", "4": "block device", "6": "FIFO", "7": "contiguous file",
};

const utf8 = new TextDecoder("utf-8", { fatal: true });

export function deviceTarView(tar: Uint8Array): DeviceTarView {
  const data = Buffer.from(tar.buffer, tar.byteOffset, tar.byteLength);
  const problems: string[] = [];
  let headers = 0;
  let offset = 0;
  let ended = false;
  while (offset + BLOCK <= data.length) {
    const block = data.subarray(offset, offset + BLOCK);
    if (block[0] === 0) {
      if (!block.every((byte) => byte === 0)) problems.push(`header at byte ${offset}: its name is empty, so a device reader takes it for the end of the archive`);
      ended = true;
      break;
    }
    headers++;
    const at = `header at byte ${offset}`;
    const name = readName(block, at, problems);
    const shown = `\`${name}\``;
    if (!checksumOk(block)) problems.push(`${at} (${shown}): its checksum is wrong`);
    const typeflag = block[156] === 0 ? "0" : String.fromCharCode(block[156]!);
    const sizeField = block.toString("latin1", 124, 135);
    if (!/^[\t\n\v\f\r ]*[0-7]+[\t\n\v\f\r ]*$/.test(sizeField)) problems.push(`${at} (${shown}): its size is not 11 octal digits, which a device reader cannot parse`);
    const size = realSize(block);
    // A device reads only the first 11 bytes of the size field; a 12-digit size reads as another number.
    const deviceSize = Number.parseInt(sizeField.trim(), 8);
    if (size !== undefined && Number.isFinite(deviceSize) && deviceSize !== size) problems.push(`${at} (${shown}): its size field holds ${size}, but a device reader, which reads 11 digits, sees ${deviceSize}`);
    const isUstar = block.toString("latin1", 257, 263) === "ustar\0";
    if (isUstar && block.subarray(345, 500).some((byte) => byte !== 0)) {
      problems.push(`${at} (${shown}): its name continues in the ustar prefix field, which device readers ignore: they see only ${shown}`);
    }
    if (typeflag === "x" || typeflag === "g") {
      problems.push(`${at}: a pax extended header (\`${typeflag}\`, ${shown}): device readers write it out as a file and ignore the long name or attributes it holds`);
    } else if (typeflag === "L" || typeflag === "K") {
      problems.push(`${at}: a GNU long ${typeflag === "L" ? "name" : "link name"} record (\`${typeflag}\`, ${shown}): device readers write it out as a file and cut the real name to 100 bytes`);
    } else if (typeflag === "5") {
      if (!name.endsWith("/")) problems.push(`${at}: folder ${shown} has no trailing \`/\`, so a device reader takes it for a file`);
    } else if (typeflag === "0") {
      if (name.endsWith("/")) problems.push(`${at}: file ${shown} ends in \`/\`, so a device reader takes it for a folder`);
    } else {
      problems.push(`${at}: ${shown} is a ${TYPE_NAMES[typeflag] ?? `type \`${typeflag}\``} entry; device readers know only regular files and folders`);
    }
    if (size === undefined) break; // cannot tell where the next header is; the size problem is listed
    offset += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
  }
  if (!ended && offset < data.length) problems.push(`the tar ends inside a header or an entry's data, at byte ${data.length}`);
  return { problems: summarize(problems), headers };
}

function readName(block: Buffer, at: string, problems: string[]): string {
  const field = block.subarray(0, 100);
  const nul = field.indexOf(0);
  const bytes = field.subarray(0, nul < 0 ? 100 : nul);
  let name: string;
  try {
    name = utf8.decode(bytes);
  } catch {
    name = bytes.toString("latin1");
    problems.push(`${at}: its name is not valid UTF-8, which a device reader fails on`);
  }
  if (nul >= 0 && field.subarray(nul).some((byte) => byte !== 0)) {
    problems.push(`${at} (\`${name}\`): bytes follow the NUL that ends its name, and a device reader keeps them as part of the name`);
  }
  return name;
}

function checksumOk(block: Buffer): boolean {
  const field = block.toString("latin1", 148, 156).replace(/[\0 ]+$/, "").trim();
  if (!/^[0-7]+$/.test(field)) return false;
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return parseInt(field, 8) === sum;
}

/** The size a correct reader takes (octal, or GNU base-256), to find the next header. */
function realSize(block: Buffer): number | undefined {
  if (block[124]! & 0x80) {
    let value = 0;
    for (let i = 125; i < 136; i++) value = value * 256 + block[i]!;
    return Number.isSafeInteger(value) ? value : undefined;
  }
  const text = block.toString("latin1", 124, 136).replace(/\0.*$/s, "").trim();
  return /^[0-7]+$/.test(text) ? parseInt(text, 8) : text === "" ? 0 : undefined;
}

function summarize(problems: string[]): string[] {
  if (problems.length <= MAX_SHOWN) return problems;
  return [...problems.slice(0, MAX_SHOWN), `... and ${problems.length - MAX_SHOWN} more`];
}
