// Minimal types for @micropython/micropython-webassembly-pyscript (MicroPython 1.27 as WebAssembly), which ships none.
declare module "@micropython/micropython-webassembly-pyscript" {
  export interface MicroPythonFS {
    mkdirTree(path: string): void;
    writeFile(path: string, data: string | Uint8Array): void;
    readFile(path: string, opts?: { encoding?: "binary" | "utf8" }): Uint8Array;
    readdir(path: string): string[];
    stat(path: string): { mode: number; size: number };
    isDir(mode: number): boolean;
  }
  export interface MicroPython {
    FS: MicroPythonFS;
    /** Runs code; throws a PythonError (message: the traceback, `type`: the exception class name) if it raises. */
    runPython(code: string): unknown;
    runPythonAsync(code: string): Promise<unknown>;
    pyimport(name: string): unknown;
    registerJsModule(name: string, module: object): void;
    globals: { get(key: string): unknown; set(key: string, value: unknown): void; delete(key: string): void };
  }
  export interface LoadOptions {
    pystack?: number;
    heapsize?: number;
    url?: string;
    stdin?: () => number | null;
    /** With linebuffer true (default): one call per line, without the newline; with false: one byte at a time. */
    stdout?: (data: string | Uint8Array) => void;
    stderr?: (data: string | Uint8Array) => void;
    linebuffer?: boolean;
  }
  export function loadMicroPython(options?: LoadOptions): Promise<MicroPython>;
}
