using ControlPlane.Migrations.Parsing;
using Xunit;

namespace ControlPlane.Tests.Migrations;

/// <summary>The compiled parser is cached on disk so a CLI run does not recompile it; a bad cache entry is recompiled.</summary>
public sealed class PgParserModuleTests : IDisposable
{
    private readonly DirectoryInfo cache = Directory.CreateTempSubdirectory("cp-pgparser-cache-");

    public void Dispose() => cache.Delete(true);

    [Fact]
    public void The_first_load_stores_the_compiled_module_and_the_next_load_uses_it()
    {
        Parse(PgParserModule.Load(PgParserModule.DefaultPath(), cache.FullName));
        var stored = Assert.Single(cache.GetFiles("*.cwasm"));

        Parse(PgParserModule.Load(PgParserModule.DefaultPath(), cache.FullName));

        Assert.Equal(stored.LastWriteTimeUtc, Assert.Single(cache.GetFiles("*.cwasm")).LastWriteTimeUtc);
    }

    [Fact]
    public void A_corrupt_cache_entry_is_recompiled_and_replaced()
    {
        Parse(PgParserModule.Load(PgParserModule.DefaultPath(), cache.FullName));
        var stored = Assert.Single(cache.GetFiles("*.cwasm"));
        File.WriteAllBytes(stored.FullName, [1, 2, 3]);

        Parse(PgParserModule.Load(PgParserModule.DefaultPath(), cache.FullName));

        Assert.True(new FileInfo(stored.FullName).Length > 3);
    }

    [Fact]
    public void A_missing_wasm_says_how_to_restore_it()
    {
        var error = Assert.Throws<FileNotFoundException>(() => PgParserModule.Load(Path.Combine(cache.FullName, "none.wasm"), null));

        Assert.Contains("npm pack @supabase/pg-parser@0.1.7", error.Message, StringComparison.Ordinal);
    }

    private static void Parse(PgParserModule module)
    {
        using var instance = new PgParserInstance(module);
        Assert.Null(instance.Parse("SELECT 1"u8).Error);
    }
}
