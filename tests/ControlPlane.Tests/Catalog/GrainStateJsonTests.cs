using ControlPlane.Grains.Backups;
using ControlPlane.Grains.Failover;
using ControlPlane.Silo.Catalog;
using Newtonsoft.Json;
using Xunit;

namespace ControlPlane.Tests.Catalog;

/// <summary>The previous release's grain state JSON (kept readable by <see cref="ReadOnlyListJsonConverter"/>) reads back, whatever list type made it.</summary>
public sealed class GrainStateJsonTests
{
    private static JsonSerializerSettings Settings(bool withConverter)
    {
        var settings = new JsonSerializerSettings
        {
            TypeNameHandling = TypeNameHandling.All,
            PreserveReferencesHandling = PreserveReferencesHandling.Objects,
            DefaultValueHandling = DefaultValueHandling.Ignore,
            MissingMemberHandling = MissingMemberHandling.Ignore,
            NullValueHandling = NullValueHandling.Ignore,
            ConstructorHandling = ConstructorHandling.AllowNonPublicDefaultConstructor,
            TypeNameAssemblyFormatHandling = TypeNameAssemblyFormatHandling.Simple,
        };
        if (withConverter) settings.Converters.Add(new ReadOnlyListJsonConverter());
        return settings;
    }

    private static TierBackupsState State()
    {
        var now = new DateTimeOffset(2026, 11, 27, 22, 0, 0, TimeSpan.Zero);
        var state = new TierBackupsState { Policy = new BackupPolicy { Repository = "/r" }, Sequence = 3 };
        state.Backups.Add(new BackupRecord("b1", BackupState.Succeeded, now, now, 1, 10, 20, true)
        {
            Repositories = ["/r"],
            Drills = [.. Enumerable.Range(1, 3).Select(i => $"d{i}")],
            Counts = [new TableCountRecord("postgres", "public.t", 5)],
        });
        var op = new BackupOperation("oltp.b1", BackupOperationKind.Backup, "local", "oltp", "sre", OperationState.Running, [], now, null, "", "b1").Step("one").Step("two");
        state.Operations.Add(op);
        return state;
    }

    [Fact]
    public void State_with_collection_expression_lists_round_trips()
    {
        var json = JsonConvert.SerializeObject(State(), Settings(withConverter: true));
        var back = JsonConvert.DeserializeObject<TierBackupsState>(json, Settings(withConverter: true))!;
        Assert.Equal(["/r"], back.Backups[0].Repositories);
        Assert.Equal(["d1", "d2", "d3"], back.Backups[0].Drills);
        Assert.Equal(5, back.Backups[0].Counts[0].Rows);
        Assert.Equal(["one", "two"], back.Operations[0].Steps.Select(s => s.Message));
        Assert.DoesNotContain("<>z__", json, StringComparison.Ordinal);
    }

    [Fact]
    public void State_written_without_the_converter_still_reads_back_with_it()
    {
        var operation = new OperationRecord("oltp.1", OperationKind.Switchover, "local", "oltp", null, false, "sre", OperationState.Running, [], DateTimeOffset.UnixEpoch, null, "", 2)
            .Step("a").Step("b");
        var old = JsonConvert.SerializeObject(operation, Settings(withConverter: false));
        var back = JsonConvert.DeserializeObject<OperationRecord>(old, Settings(withConverter: true))!;
        Assert.Equal(["a", "b"], back.Steps.Select(s => s.Message));
    }
}
