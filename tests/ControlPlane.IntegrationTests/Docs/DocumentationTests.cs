using System.Diagnostics;
using ControlPlane.IntegrationTests.Coverage;
using Xunit;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Docs;

/// <summary>
/// Every shell block of docs/*.md marked runnable runs against a real silo (one tier, <c>oltp</c>), through the built
/// cpctl with CONTROLPLANE_ENDPOINT and CONTROLPLANE_TOKEN set, from the repository root; its exit code and
/// the output the doc shows are asserted. A documented command that no longer works fails here, naming file:line.
/// </summary>
[Collection(OperabilityCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class DocumentationTests(OperabilitySiloFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan BlockTimeout = TimeSpan.FromMinutes(2);

    public static TheoryData<string> Blocks()
    {
        var data = new TheoryData<string>();
        foreach (var block in RunnableBlocks.InDocs(RunnableBlocks.RepositoryRoot())) data.Add(block.Id);
        return data;
    }

    [Theory]
    [MemberData(nameof(Blocks))]
    public async Task A_runnable_block_of_the_docs_runs_and_prints_what_the_doc_shows(string id)
    {
        var root = RunnableBlocks.RepositoryRoot();
        var block = RunnableBlocks.InDocs(root).Single(b => b.Id == id);
        var (exit, stdout, stderr) = await RunAsync(root, block.Script);
        output.WriteLine($"$ {block.Script}\n{stdout}\n{stderr}");
        Assert.True(exit == block.ExpectedExit, $"{id} exited {exit}, the doc expects {block.ExpectedExit}:\n{block.Script}\n{stdout}\n{stderr}");
        foreach (var line in block.Expected)
            Assert.True(stdout.Contains(line, StringComparison.Ordinal) || stderr.Contains(line, StringComparison.Ordinal),
                $"{id}: the doc shows '{line}', the command printed:\n{stdout}\n{stderr}");
    }

    [Fact]
    public void The_docs_mark_runnable_blocks_on_several_pages_and_an_expected_output_reads_with_its_block()
    {
        var blocks = RunnableBlocks.InDocs(RunnableBlocks.RepositoryRoot());
        Assert.True(blocks.Count >= 10, $"only {blocks.Count} runnable blocks in docs/");
        Assert.True(blocks.Select(b => b.File).Distinct().Count() >= 4);
        var parsed = RunnableBlocks.Extract("x.md", ["text", "```sh runnable exit=1", "cpctl tier nope", "```", "", "```text expected", "error: NOT_FOUND", "```", "```sh", "rm -rf /", "```"]);
        var block = Assert.Single(parsed);
        Assert.Equal(("x.md:2", "cpctl tier nope", 1), (block.Id, block.Script, block.ExpectedExit));
        Assert.Equal(["error: NOT_FOUND"], block.Expected);
    }

    /// <summary>client/ControlPlane.Cli/bin/CONFIGURATION/TFM/cpctl.dll, the configuration and framework of this test run.</summary>
    private static string CliAssembly(string root)
    {
        var framework = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var path = Path.Combine(root, "client", "ControlPlane.Cli", "bin", framework.Parent!.Name, framework.Name, "cpctl.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException("build the solution first: cpctl is not at " + path);
    }

    private async Task<(int Exit, string Stdout, string Stderr)> RunAsync(string root, string script)
    {
        // cpctl as a user has it: the CLI as its own project built it (with its own dependencies; the copy in this test's
        // output runs against the test's newer ones), as a shell function, so nothing is left behind on PATH.
        var cpctl = $"cpctl() {{ dotnet \"{CliAssembly(root)}\" \"$@\"; }}\n";
        var start = new ProcessStartInfo("bash", ["-c", cpctl + "set -eo pipefail\n" + script])
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["CONTROLPLANE_ENDPOINT"] = fixture.Endpoint;
        start.Environment["CONTROLPLANE_TOKEN"] = fixture.AdminToken;
        start.Environment["NO_COLOR"] = "1";
        using var process = Process.Start(start) ?? throw new InvalidOperationException("bash did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(BlockTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"the block did not finish within {BlockTimeout}: {script}");
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}
