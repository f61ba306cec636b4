using System.Runtime.InteropServices;
using System.Text;
using Wasmtime;

namespace ControlPlane.Migrations.Parsing;

/// <summary>
/// One instantiation of the parser: its own linear memory, so one parse at a time (the pool in
/// <see cref="SqlParser"/> hands instances out). The module is an emscripten build without its JavaScript glue: this
/// class is that glue. The C code uses setjmp/longjmp for PostgreSQL's ereport; emscripten lowers a longjmp to a call
/// of <c>_emscripten_throw_longjmp</c> that must unwind to the nearest <c>invoke_*</c> wrapper, which then records the
/// jump with <c>setThrew</c> and returns so the wasm code takes its setjmp branch. Here the unwinding is a .NET
/// exception carried through Wasmtime as a trap.
/// </summary>
internal sealed class PgParserInstance : IDisposable
{
    private const int Enosys = 52;
    private const int Enoent = 44;

    private readonly Store store;
    private readonly Memory memory;
    private readonly Table table;
    private readonly Func<int, int> malloc;
    private readonly Action<int> free;
    private readonly Func<int, int> parseSql;
    private readonly Action<int> freeParseResult;
    private readonly Func<int, int> scanSql;
    private readonly Action<int> freeScanResult;
    private readonly Action<int, int> setThrew;
    private readonly Func<int> stackCurrent;
    private readonly Action<int> stackRestore;
    private readonly Dictionary<int, Function> functions = [];

    public PgParserInstance(PgParserModule parser)
    {
        store = new Store(parser.Engine);
        using var linker = new Linker(parser.Engine);
        DefineImports(linker);
        var instance = linker.Instantiate(store, parser.Module);
        memory = instance.GetMemory("memory") ?? throw Missing("memory");
        table = instance.GetTable("__indirect_function_table") ?? throw Missing("__indirect_function_table");
        malloc = instance.GetFunction<int, int>("malloc") ?? throw Missing("malloc");
        free = instance.GetAction<int>("free") ?? throw Missing("free");
        parseSql = instance.GetFunction<int, int>("parse_sql") ?? throw Missing("parse_sql");
        freeParseResult = instance.GetAction<int>("free_parse_result") ?? throw Missing("free_parse_result");
        scanSql = instance.GetFunction<int, int>("scan_sql") ?? throw Missing("scan_sql");
        freeScanResult = instance.GetAction<int>("free_scan_result") ?? throw Missing("free_scan_result");
        setThrew = instance.GetAction<int, int>("setThrew") ?? throw Missing("setThrew");
        stackCurrent = instance.GetFunction<int>("emscripten_stack_get_current") ?? throw Missing("emscripten_stack_get_current");
        stackRestore = instance.GetAction<int>("_emscripten_stack_restore") ?? throw Missing("_emscripten_stack_restore");
        (instance.GetAction("emscripten_stack_init") ?? throw Missing("emscripten_stack_init"))();
        (instance.GetAction("__wasm_call_ctors") ?? throw Missing("__wasm_call_ctors"))();
    }

    /// <summary>Parses <paramref name="utf8Sql"/>; returns the protobuf-JSON tree or the parser's error.</summary>
    public RawParse Parse(ReadOnlySpan<byte> utf8Sql)
    {
        var sqlPtr = CopyIn(utf8Sql);
        int result;
        try
        {
            result = parseSql(sqlPtr);
        }
        finally
        {
            free(sqlPtr);
        }
        if (result == 0)
        {
            throw new InvalidOperationException("pg-parser returned no result (out of memory in the parser)");
        }
        try
        {
            var treePtr = memory.ReadInt32(result);
            var errorPtr = memory.ReadInt32(result + 8);
            if (errorPtr != 0)
            {
                return new RawParse(null, ReadError(errorPtr));
            }
            return new RawParse(ReadBytes(treePtr), null);
        }
        finally
        {
            freeParseResult(result);
        }
    }

    /// <summary>Scans <paramref name="utf8Sql"/> into tokens (comments included) or returns the scanner's error.</summary>
    public (IReadOnlyList<SqlToken>? Tokens, SqlError? Error) Scan(ReadOnlySpan<byte> utf8Sql)
    {
        var sqlPtr = CopyIn(utf8Sql);
        int result;
        try
        {
            result = scanSql(sqlPtr);
        }
        finally
        {
            free(sqlPtr);
        }
        if (result == 0)
        {
            throw new InvalidOperationException("pg-parser returned no scan result (out of memory in the parser)");
        }
        try
        {
            var count = memory.ReadInt32(result);
            var tokensPtr = memory.ReadInt32(result + 4);
            var errorPtr = memory.ReadInt32(result + 8);
            if (errorPtr != 0)
            {
                return (null, ReadError(errorPtr));
            }
            var tokens = new SqlToken[count];
            for (var i = 0; i < count; i++)
            {
                long at = tokensPtr + (i * 16);
                var kindPtr = memory.ReadInt32(at + 8);
                tokens[i] = new SqlToken(
                    memory.ReadInt32(at), memory.ReadInt32(at + 4), Encoding.UTF8.GetString(ReadBytes(kindPtr)));
            }
            return (tokens, null);
        }
        finally
        {
            freeScanResult(result);
        }
    }

    public void Dispose() => store.Dispose();

    private int CopyIn(ReadOnlySpan<byte> utf8)
    {
        var ptr = malloc(utf8.Length + 1);
        if (ptr == 0)
        {
            throw new InvalidOperationException($"pg-parser could not allocate {utf8.Length + 1} bytes");
        }
        var target = memory.GetSpan(ptr, utf8.Length + 1);
        utf8.CopyTo(target);
        target[utf8.Length] = 0;
        return ptr;
    }

    private byte[] ReadBytes(int ptr)
    {
        if (ptr == 0)
        {
            return [];
        }
        var available = (int)Math.Min(int.MaxValue, memory.GetLength() - ptr);
        var span = memory.GetSpan(ptr, available);
        var length = span.IndexOf((byte)0);
        return span[..(length < 0 ? available : length)].ToArray();
    }

    // PgQueryError: message @0, funcname @4, filename @8, lineno @12, cursorpos @16 (1-based, 0 = none).
    private SqlError ReadError(int errorPtr)
    {
        var message = Encoding.UTF8.GetString(ReadBytes(memory.ReadInt32(errorPtr)));
        var cursor = memory.ReadInt32(errorPtr + 16);
        return new SqlError(message.Length == 0 ? "unknown parser error" : message, cursor > 0 ? cursor - 1 : 0);
    }

    private void DefineImports(Linker linker)
    {
        linker.DefineFunction("env", "invoke_i", (int f) => Invoke(f, fn => fn.Invoke()));
        linker.DefineFunction("env", "invoke_ii", (int f, int a) => Invoke(f, fn => fn.Invoke(a)));
        linker.DefineFunction("env", "invoke_iii", (int f, int a, int b) => Invoke(f, fn => fn.Invoke(a, b)));
        linker.DefineFunction("env", "invoke_iiii", (int f, int a, int b, int c) => Invoke(f, fn => fn.Invoke(a, b, c)));
        linker.DefineFunction("env", "invoke_iiiii",
            (int f, int a, int b, int c, int d) => Invoke(f, fn => fn.Invoke(a, b, c, d)));
        linker.DefineFunction("env", "invoke_v", (int f) => { Invoke(f, fn => fn.Invoke()); });
        linker.DefineFunction("env", "invoke_vi", (int f, int a) => { Invoke(f, fn => fn.Invoke(a)); });
        linker.DefineFunction("env", "invoke_vii", (int f, int a, int b) => { Invoke(f, fn => fn.Invoke(a, b)); });
        linker.DefineFunction("env", "_emscripten_throw_longjmp", () => throw new LongjmpUnwind());
        linker.DefineFunction("env", "emscripten_resize_heap", (int requested) => ResizeHeap((uint)requested));
        linker.DefineFunction("env", "emscripten_date_now", () => (double)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        linker.DefineFunction("env", "emscripten_get_now", () => Environment.TickCount64 * 1.0);
        linker.DefineFunction("env", "exit", (int code) => throw new InvalidOperationException($"pg-parser called exit({code})"));
        linker.DefineFunction("env", "_abort_js", () => throw new InvalidOperationException("pg-parser called abort()"));
        linker.DefineFunction("env", "__assert_fail",
            (int _, int _, int _, int _) => throw new InvalidOperationException("pg-parser failed an assertion"));
        // The parser opens no files; refusing keeps it that way.
        linker.DefineFunction("env", "__syscall_openat", (int _, int _, int _, int _) => -Enoent);
        linker.DefineFunction("wasi_snapshot_preview1", "fd_close", (int _) => 0);
        linker.DefineFunction("wasi_snapshot_preview1", "fd_read", (int _, int _, int _, int _) => Enosys);
        linker.DefineFunction("wasi_snapshot_preview1", "fd_seek", (int _, long _, int _, int _) => Enosys);
        linker.DefineFunction("wasi_snapshot_preview1", "fd_write", (int fd, int iovs, int count, int written) => FdWrite(iovs, count, written));
    }

    // stdout/stderr output of the C code is dropped (the parse result carries its own error text); the bytes are
    // reported as written so the C library does not retry.
    private int FdWrite(int iovs, int iovCount, int writtenPtr)
    {
        var total = 0;
        for (var i = 0; i < iovCount; i++)
        {
            total += memory.ReadInt32(iovs + (i * 8) + 4);
        }
        memory.WriteInt32(writtenPtr, total);
        return 0;
    }

    private int ResizeHeap(uint requested)
    {
        const long pageSize = 65536;
        var current = memory.GetLength();
        if (requested <= current)
        {
            return 1;
        }
        // Grow geometrically so a long file does not grow the heap one page at a time.
        var target = Math.Max(requested, Math.Min(current * 2, 2L * 1024 * 1024 * 1024));
        var pages = (target - current + pageSize - 1) / pageSize;
        try
        {
            memory.Grow(pages);
            return 1;
        }
        catch (WasmtimeException)
        {
            return 0;
        }
    }

    private int Invoke(int index, Func<Function, object?> call)
    {
        var stack = stackCurrent();
        try
        {
            return call(FunctionAt(index)) is int value ? value : 0;
        }
        catch (Exception e) when (IsLongjmp(e))
        {
            stackRestore(stack);
            setThrew(1, 0);
            return 0;
        }
    }

    private Function FunctionAt(int index)
    {
        if (!functions.TryGetValue(index, out var function))
        {
            function = table.GetElement((uint)index) as Function
                ?? throw new InvalidOperationException($"pg-parser called an empty table slot {index}");
            functions[index] = function;
        }
        return function;
    }

    private static bool IsLongjmp(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is LongjmpUnwind)
            {
                return true;
            }
        }
        return false;
    }

    private static InvalidOperationException Missing(string export) =>
        new($"pg-parser.wasm does not export '{export}' (expected @supabase/pg-parser 0.1.7)");

    /// <summary>A longjmp in flight from <c>_emscripten_throw_longjmp</c> to the nearest <c>invoke_*</c>.</summary>
    private sealed class LongjmpUnwind : Exception
    {
    }
}

/// <summary>What one call of parse_sql produced: UTF-8 protobuf-JSON, or the parser's error.</summary>
internal sealed record RawParse(byte[]? TreeJson, SqlError? Error);

/// <summary>A token from scan_sql: UTF-8 byte offsets into the source and PostgreSQL's token name.</summary>
public sealed record SqlToken(int Start, int End, string Kind);

/// <summary>A syntax error: the parser's message and the 0-based UTF-8 byte offset it points at.</summary>
public sealed record SqlError(string Message, int ByteOffset);
