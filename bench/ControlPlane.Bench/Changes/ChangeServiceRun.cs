using System.Diagnostics;
using System.Globalization;
using System.Text;
using ControlPlane.Bench.Common;
using ControlPlane.Bench.Failover;
using ControlPlane.Bench.Fleet;
using ControlPlane.Client;
using ControlPlane.Protos.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Npgsql;

namespace ControlPlane.Bench.Changes;

/// <summary>One version applied to every target by one side.</summary>
/// <param name="SubmitSeconds">ChangeService only: SubmitChange (lint, plan, every target's history read).</param>
/// <param name="Seconds">RolloutChange to the change completed (polled every 50 ms), or the loop's time.</param>
public sealed record ChangeServiceSide(
    string Side, string Version, int Targets, int Concurrency, double? SubmitSeconds, double Seconds, double MillisecondsPerTarget, bool Completed, string Note);

public sealed record ChangeServiceResult(
    MachineInfo Machine, string LoadBefore, string LoadAfter, int Tenants, double RegisterSeconds, IReadOnlyList<ChangeServiceSide> Sides)
{
    public string Render()
    {
        var text = new StringBuilder(string.Create(CultureInfo.InvariantCulture,
            $"{Tenants} tenant schemas (+ the shared schema) on one primary; registering the tenants took {RegisterSeconds:F1} s; load {LoadBefore} -> {LoadAfter}\n"));
        text.AppendLine(CultureInfo.InvariantCulture, $"{"side",-36} {"version",-18} {"targets",7} {"conc",5} {"submit s",9} {"rollout s",10} {"ms/target",10}");
        foreach (var s in Sides)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"{s.Side,-36} {s.Version,-18} {s.Targets,7} {s.Concurrency,5} {(s.SubmitSeconds is { } x ? x.ToString("F2", CultureInfo.InvariantCulture) : "-"),9} {s.Seconds,10:F2} {s.MillisecondsPerTarget,10:F2}{(s.Completed ? "" : "  NOT COMPLETED: " + s.Note)}");
        }
        return text.ToString();
    }
}

/// <summary>
/// The whole change path measured from outside: a Release silo with a one-tier fleet (primary and one standby),
/// N tenants registered with a schema on it, then per version: SubmitChange as one operator, ApproveChange as another,
/// RolloutChange (one canary, then one batch of everything else, no pause) and polling until the change completes.
/// Every rollout target is a schema of the same primary; the batch runs within the pool lease the change takes.
/// The Flyway-style loop then applies the same two versions to the same schemas, one after another on one session.
/// </summary>
public static class ChangeServiceRun
{
    private const string Tier = FailoverRun.Tier;

    private static readonly (string Name, string Sql)[] Versions =
    [
        ("no-op", "SELECT 1;\n"),
        ("small migration", "CREATE TABLE IF NOT EXISTS bench_note (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text);\n"),
    ];

    public static async Task<ChangeServiceResult> RunAsync(FileInfo siloFile, string root, int tenants, int concurrency, bool keep, TextWriter log, CancellationToken ct)
    {
        var data = Path.Combine(root, "data");
        Directory.CreateDirectory(data);
        var loadBefore = MachineInfo.LoadAverage();
        var silo = SiloProcess.Start(siloFile, data, Path.Combine(root, "silo.log"), new Dictionary<string, string>
        {
            ["ControlPlane__LocalTiers__0"] = Tier,
            ["ControlPlane__StandbysPerTier"] = "1",
            ["ControlPlane__Backups__DefaultPolicy__Schedule"] = "",
            ["ControlPlane__Backups__DefaultPolicy__DrillSchedule"] = "",
        });
        var failed = true;
        try
        {
            var token = await FailoverRun.WaitForTokenAsync(Path.Combine(data, "admin.token"), silo, ct);
            using var admin = new ControlPlaneClient(silo.GrpcEndpoint, new ControlPlaneClientOptions { Token = token });
            var tier = await FailoverRun.WaitConvergedAsync(admin, TimeSpan.FromMinutes(5), ct)
                ?? throw new InvalidOperationException($"tier {Tier} never converged; see {silo.LogFile}");
            using var author = await OperatorAsync(admin, silo, "bench-author", ct);
            using var reviewer = await OperatorAsync(admin, silo, "bench-reviewer", ct);
            await log.WriteLineAsync($"silo up, tier {Tier} converged; registering {tenants} tenants");

            var clock = Stopwatch.StartNew();
            await ForEachAsync(Enumerable.Range(1, tenants), 4, i => admin.Tenants.RegisterTenantAsync(new TenantRegisterRequest
            {
                Tenant = string.Create(CultureInfo.InvariantCulture, $"bench-{i:00000}"),
                Placements = { new TenantPlacement { Tier = Tier, Kind = PlacementKind.Schema } },
            }, cancellationToken: ct).ResponseAsync);
            var registerSeconds = clock.Elapsed.TotalSeconds;
            await log.WriteLineAsync($"registered {tenants} tenants in {registerSeconds:F1} s");

            var sides = new List<ChangeServiceSide>();
            var files = new List<MigrationFile>();
            for (var v = 0; v < Versions.Length; v++)
            {
                files.Add(new MigrationFile
                {
                    Name = string.Create(CultureInfo.InvariantCulture, $"V{v + 1}__{Versions[v].Name.Replace(' ', '_')}.sql"),
                    Content = ByteString.CopyFromUtf8(Versions[v].Sql),
                });
                sides.Add(await RolloutAsync(author, reviewer, files, Versions[v].Name, concurrency, log, ct));
            }

            var passwordFile = Path.Combine(data, "secrets", $"{Tier}.superuser");
            await using var session = await FailoverRun.OpenAsync(tier.Replicas.Single(r => r.Name == tier.Primary), passwordFile, ct);
            var schemas = await TenantSchemasAsync(session, ct);
            for (var v = 0; v < Versions.Length; v++)
            {
                // Its own table name: the schemas already hold what the rollout created.
                var sql = Versions[v].Sql.Replace("bench_note", "bench_note_loop", StringComparison.Ordinal);
                clock.Restart();
                foreach (var schema in schemas) await RolloutRun.FlywayStyleAsync(session, schema, v + 1, Versions[v].Name.Replace(' ', '-'), sql, ct);
                var seconds = clock.Elapsed.TotalSeconds;
                sides.Add(new ChangeServiceSide("flyway-style loop (one session)", Versions[v].Name, schemas.Count, 1, null, seconds, seconds * 1000 / schemas.Count, true, ""));
                await log.WriteLineAsync($"flyway-style loop, {Versions[v].Name}: {seconds:F2} s");
            }
            failed = false;
            return new ChangeServiceResult(MachineInfo.Capture(), loadBefore, MachineInfo.LoadAverage(), tenants, Math.Round(registerSeconds, 2), sides);
        }
        finally
        {
            await silo.StopAsync(TimeSpan.FromSeconds(60));
            await silo.DisposeAsync();
            // A failed run keeps its silo log for reading.
            if (!keep && !failed) TryDelete(root);
            else await log.WriteLineAsync($"kept {root} (silo log: {silo.LogFile})");
        }
    }

    private static async Task<ChangeServiceSide> RolloutAsync(
        ControlPlaneClient author, ControlPlaneClient reviewer, IReadOnlyList<MigrationFile> files, string version, int concurrency, TextWriter log, CancellationToken ct)
    {
        var request = new SubmitChangeRequest { Tier = Tier, Description = "bench: " + version };
        request.Files.AddRange(files);
        var clock = Stopwatch.StartNew();
        var change = await author.Changes.SubmitChangeAsync(request, cancellationToken: ct);
        var submitSeconds = clock.Elapsed.TotalSeconds;
        await reviewer.Changes.ApproveChangeAsync(new ApproveChangeRequest { ChangeId = change.ChangeId }, cancellationToken: ct);
        var targets = change.Targets.Count;
        clock.Restart();
        await reviewer.Changes.RolloutChangeAsync(new RolloutChangeRequest
        {
            ChangeId = change.ChangeId, CanaryTargets = 1, BatchSize = Math.Max(1, targets - 1), Concurrency = concurrency, Pause = new Duration(),
        }, cancellationToken: ct);
        ChangeInfo info;
        do
        {
            await Task.Delay(50, ct);
            info = await reviewer.Changes.GetChangeAsync(new ChangeRequest { ChangeId = change.ChangeId }, cancellationToken: ct);
        }
        while (info.Phase == ChangePhase.RollingOut);
        var seconds = clock.Elapsed.TotalSeconds;
        var completed = info.Phase == ChangePhase.Completed;
        var lease = info.History.Select(h => h.Event).LastOrDefault(e => e.Contains("under pool lease", StringComparison.Ordinal)) ?? "";
        await log.WriteLineAsync($"ChangeService, {version}: submit {submitSeconds:F2} s, rollout {seconds:F2} s, {info.Phase}; {LeaseOf(lease)}");
        return new ChangeServiceSide("ChangeService (gRPC, grain, lease)", version, targets, concurrency, Math.Round(submitSeconds, 3), Math.Round(seconds, 3),
            Math.Round(seconds * 1000 / targets, 2), completed, completed ? LeaseOf(lease) : info.HaltReason);
    }

    /// <summary>"batch 2 (8 at once under pool lease oltp.controlplane.3, granted 8 of 8)" of a batch's history line.</summary>
    private static string LeaseOf(string batchEvent) => batchEvent.IndexOf("):", StringComparison.Ordinal) is var end and > 0 ? batchEvent[..(end + 1)] : batchEvent;

    private static async Task<ControlPlaneClient> OperatorAsync(ControlPlaneClient admin, SiloProcess silo, string name, CancellationToken ct)
    {
        var created = await admin.Security.CreateTokenAsync(new CreateTokenRequest { Name = name, Role = Role.Operator }, cancellationToken: ct);
        return new ControlPlaneClient(silo.GrpcEndpoint, new ControlPlaneClientOptions { Token = created.Token });
    }

    private static async Task<IReadOnlyList<string>> TenantSchemasAsync(NpgsqlConnection session, CancellationToken ct)
    {
        // The same targets as the rollout: every tenant's schema and the tier's shared schema.
        await using var cmd = new NpgsqlCommand(
            "SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'tenant\\_bench\\_%' OR nspname = 'tenant_shared' ORDER BY 1", session);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var schemas = new List<string>();
        while (await reader.ReadAsync(ct)) schemas.Add(reader.GetString(0));
        return schemas;
    }

    private static async Task ForEachAsync(IEnumerable<int> items, int concurrency, Func<int, Task> action)
    {
        using var gate = new SemaphoreSlim(concurrency);
        await Task.WhenAll(items.Select(async i =>
        {
            await gate.WaitAsync();
            try { await action(i); }
            finally { gate.Release(); }
        }));
    }

    private static void TryDelete(string path)
    {
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
