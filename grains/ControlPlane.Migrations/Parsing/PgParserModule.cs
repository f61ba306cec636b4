using Wasmtime;

namespace ControlPlane.Migrations.Parsing;

/// <summary>
/// The PostgreSQL 15 grammar compiled to WebAssembly (libpg_query, as built by the npm package
/// @supabase/pg-parser 0.1.7), compiled once per process by Wasmtime. Instances are cheap; compilation is not.
/// The build restores the .wasm from npm into a cache and copies it beside this assembly (PgParser.targets).
/// </summary>
internal sealed class PgParserModule
{
    public const string FileName = "pg-parser-15.wasm";

    private static readonly Lazy<PgParserModule> Default = new(() => Load(DefaultPath()));

    private PgParserModule(Engine engine, Module module)
    {
        Engine = engine;
        Module = module;
    }

    public Engine Engine { get; }

    public Module Module { get; }

    public static Lazy<PgParserModule> SharedLazy() => Default;

    public static string DefaultPath() => Path.Combine(AppContext.BaseDirectory, FileName);

    public static PgParserModule Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"The PostgreSQL parser '{path}' is missing: it is restored by the build of ControlPlane.Migrations " +
                "(npm pack @supabase/pg-parser@0.1.7); rebuild with node and npm on the PATH.", path);
        }
        var engine = new Engine(new Config().WithOptimizationLevel(OptimizationLevel.Speed));
        return new PgParserModule(engine, Module.FromFile(engine, path));
    }
}
