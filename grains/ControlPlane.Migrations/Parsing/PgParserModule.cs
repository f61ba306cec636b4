using System.Reflection;
using Module = Wasmtime.Module;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Wasmtime;

namespace ControlPlane.Migrations.Parsing;

/// <summary>
/// The PostgreSQL 15 grammar compiled to WebAssembly (libpg_query, as built by the npm package
/// @supabase/pg-parser 0.1.7), compiled once per process by Wasmtime. Instances are cheap; compilation is not (a
/// few seconds of Cranelift on a busy machine), so the compiled module is also kept in the user's cache directory,
/// keyed by the wasm's sha256, the Wasmtime version and the architecture: a CLI run after the first starts at once.
/// The build restores the .wasm from npm into a cache and copies it beside this assembly (PgParser.targets).
/// </summary>
internal sealed class PgParserModule
{
    public const string FileName = "pg-parser-15.wasm";

    private static readonly Lazy<PgParserModule> Default = new(() => Load(DefaultPath(), CompiledCacheDirectory()));

    private PgParserModule(Engine engine, Module module)
    {
        Engine = engine;
        Module = module;
    }

    public Engine Engine { get; }

    public Module Module { get; }

    public static Lazy<PgParserModule> SharedLazy() => Default;

    public static string DefaultPath() => Path.Combine(AppContext.BaseDirectory, FileName);

    /// <summary>Where compiled modules are kept: $XDG_CACHE_HOME or ~/.cache, under controlplane/pg-parser/compiled.</summary>
    public static string? CompiledCacheDirectory()
    {
        var root = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (string.IsNullOrEmpty(root))
        {
            var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            root = string.IsNullOrEmpty(home) ? null : Path.Combine(home, ".cache");
        }
        return root is null ? null : Path.Combine(root, "controlplane", "pg-parser", "compiled");
    }

    public static PgParserModule Load(string path, string? compiledCache)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"The PostgreSQL parser '{path}' is missing: it is restored by the build of ControlPlane.Migrations " +
                "(npm pack @supabase/pg-parser@0.1.7); rebuild with node and npm on the PATH.", path);
        }
        var engine = new Engine(new Config().WithOptimizationLevel(OptimizationLevel.Speed));
        var wasm = File.ReadAllBytes(path);
        var cached = compiledCache is null ? null : Path.Combine(compiledCache, CacheKey(wasm) + ".cwasm");
        if (cached is not null && File.Exists(cached))
        {
            try
            {
                return new PgParserModule(engine, Module.DeserializeFile(engine, "pg-parser", cached));
            }
            catch (WasmtimeException)
            {
                // Written by another Wasmtime build or configuration, or truncated: compile afresh below.
            }
        }
        var module = Module.FromBytes(engine, "pg-parser", wasm);
        if (cached is not null)
        {
            TryStore(cached, module);
        }
        return new PgParserModule(engine, module);
    }

    private static string CacheKey(byte[] wasm)
    {
        var runtime = typeof(Engine).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? typeof(Engine).Assembly.GetName().Version?.ToString() ?? "unknown";
        var key = $"{Convert.ToHexStringLower(SHA256.HashData(wasm))}|{runtime}|{RuntimeInformation.ProcessArchitecture}|speed";
        return "pg-parser-15-" + Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)))[..24];
    }

    // A cache that cannot be written (read-only home, full disk) only costs the next run a compile.
    private static void TryStore(string cached, Module module)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(cached)!);
            var temporary = $"{cached}.{Environment.ProcessId}.tmp";
            File.WriteAllBytes(temporary, module.Serialize());
            File.Move(temporary, cached, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or WasmtimeException)
        {
        }
    }
}
