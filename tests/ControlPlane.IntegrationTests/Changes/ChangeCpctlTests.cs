using System.Text.Json;
using Xunit;

namespace ControlPlane.IntegrationTests.Changes;

/// <summary>The runbook's cpctl commands, in process, against the real silo: exit codes and JSON output.</summary>
[Collection(ChangeFleetCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class ChangeCpctlTests(ChangeFleetFixture fleet) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("cp-changes-cli-").FullName;

    [Fact]
    public async Task Cpctl_submits_approves_rolls_out_tags_and_rolls_back_a_change_with_meaningful_exit_codes()
    {
        await fleet.EnsureLedgerAsync();
        await fleet.CatchUpAsync();
        var v = fleet.NextVersion();
        foreach (var file in fleet.AppliedFiles) await File.WriteAllBytesAsync(Path.Combine(_directory, file.Name), file.Content.ToByteArray());
        await File.WriteAllTextAsync(Path.Combine(_directory, $"V{v}__cli.sql"), $"CREATE TABLE cli_{v} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);\n");
        await File.WriteAllTextAsync(Path.Combine(_directory, $"U{v}__cli.sql"), $"DROP TABLE cli_{v};\n");
        var id = $"cli-{v}";

        Assert.Equal(0, (await fleet.CpctlAsync("alice", "change", "lint", _directory)).Exit);
        var submitted = await fleet.CpctlAsync("alice", "change", "submit", ChangeFleetFixture.Tier, _directory, "-m", "a table from cpctl", "--id", id, "--json");
        Assert.True(submitted.Exit == 0, submitted.Error);
        Assert.Equal(id, JsonDocument.Parse(submitted.Output).RootElement.GetProperty("changeId").GetString());

        var own = await fleet.CpctlAsync("alice", "change", "approve", id);
        Assert.Equal(1, own.Exit);
        Assert.Contains("PERMISSION_DENIED", own.Error.ToUpperInvariant().Replace(' ', '_'), StringComparison.Ordinal);
        Assert.Equal(0, (await fleet.CpctlAsync("bob", "change", "approve", id)).Exit);

        var rollout = await fleet.CpctlAsync("admin", "change", "rollout", id, "--batch-size", "25", "--concurrency", "8", "--pause", "0", "--wait", "--json");
        Assert.True(rollout.Exit == 0, rollout.Error);
        Assert.Equal(0, (await fleet.CpctlAsync("admin", "change", "tag", id, $"cli-v{v}")).Exit);
        var shown = await fleet.CpctlAsync("admin", "change", "show", id, "--json");
        var json = JsonDocument.Parse(shown.Output).RootElement;
        Assert.Equal("CHANGE_PHASE_COMPLETED", json.GetProperty("phase").GetString());
        Assert.Equal($"cli-v{v}", json.GetProperty("tags")[0].GetString());
        Assert.Contains(id, (await fleet.CpctlAsync("admin", "change", "list", ChangeFleetFixture.Tier)).Output, StringComparison.Ordinal);

        var back = await fleet.CpctlAsync("admin", "change", "rollback", id, "--wait");
        Assert.True(back.Exit == 0, back.Error);
        var halt = await fleet.CpctlAsync("admin", "change", "halt", id, "--reason", "too late");
        Assert.Equal(1, halt.Exit);
        Assert.Contains("FAILED_PRECONDITION", halt.Error.ToUpperInvariant().Replace(' ', '_'), StringComparison.Ordinal);
        Assert.Equal(2, (await fleet.CpctlAsync("alice", "change", "submit", ChangeFleetFixture.Tier, Path.Combine(_directory, "missing"), "-m", "x")).Exit);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
