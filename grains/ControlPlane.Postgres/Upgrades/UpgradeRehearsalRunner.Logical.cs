using System.Diagnostics;
using System.Globalization;
using ControlPlane.Postgres.Backups;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;

namespace ControlPlane.Postgres.Upgrades;

public sealed partial class UpgradeRehearsalRunner
{
    private const string SubscriptionPrefix = "controlplane_upgrade_";
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// The zero-downtime path, rehearsed: the restored source (wal_level = logical) publishes every table, the target
    /// subscribes after its schema and roles were copied, a synthetic writer keeps the source busy while the lag is
    /// sampled, then the cutover: writes stop on the source, a marker row written last reaches the target, sequences
    /// are carried over (logical replication does not replicate them), the subscriptions are dropped and the target
    /// takes its first write. The write gap is the time from the writes stopping to that first write.
    /// </summary>
    public async Task<RehearsalOutcome> RehearseLogicalAsync(UpgradeRehearsalRequest request, Func<RehearsalPhase, Task> onPhase, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(onPhase);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(request.Timeout);
        ct = deadline.Token;
        var issues = new List<string>();
        var source = await RestoreSourceAsync(request, ["wal_level = logical"], onPhase, ct).ConfigureAwait(false);
        var target = await InitTargetAsync(request, onPhase, ct).ConfigureAwait(false);
        var databases = await UpgradeSql.DatabasesAsync(source, ct).ConfigureAwait(false);

        var watch = Stopwatch.StartNew();
        foreach (var database in databases)
        {
            // The rehearsal's own table on the source: the writer's traffic, the cutover marker, and a sequence whose
            // carry-over the target's first write proves.
            await using var connection = await UpgradeSql.OpenAsync(source, database, ct).ConfigureAwait(false);
            await UpgradeSql.ExecuteAsync(connection, $"CREATE TABLE IF NOT EXISTS public.{UpgradeSql.ProbeTable} (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), note text NOT NULL)", ct).ConfigureAwait(false);
        }
        await PrepareTargetAsync(request, source, target, databases, issues, ct).ConfigureAwait(false);
        for (var i = 0; i < databases.Count; i++)
        {
            var file = Path.Combine(request.Scratch.Work, $"schema-{i}.dump");
            await PgClientTool.RunCheckedAsync(request.ClientTools.Tool("pg_dump"), source, ["--schema-only", "-Fc", "-f", file, "-d", databases[i]], false, request.Timeout, ct).ConfigureAwait(false);
            var restored = await PgClientTool.RunAsync(request.ClientTools.Tool("pg_restore"), target, ["-d", databases[i], file], false, request.Timeout, ct).ConfigureAwait(false);
            issues.AddRange(Errors(restored.StandardError, $"schema of {databases[i]}"));
        }
        await onPhase(new RehearsalPhase("schema", watch.Elapsed,
            $"roles and schema of {databases.Count} database(s) copied with the PostgreSQL {request.ClientTools.Major} client tools")).ConfigureAwait(false);

        watch.Restart();
        var passFile = Path.Combine(Path.GetDirectoryName(request.Scratch.TargetData)!, "subscription.pgpass");
        await SecretFile.WriteForPostgresAsync(passFile, SecretFile.PgPassLine(source.User, SecretFile.Read(source.PasswordFile)), ct).ConfigureAwait(false);
        for (var i = 0; i < databases.Count; i++)
        {
            await using (var publisher = await UpgradeSql.OpenAsync(source, databases[i], ct).ConfigureAwait(false))
            {
                await AdminSql.ExecuteFormattedAsync(publisher, "SELECT format('CREATE PUBLICATION %I FOR ALL TABLES', $1::text)", ct, UpgradeSql.Publication).ConfigureAwait(false);
            }
            // The password stays in the passfile: the conninfo is stored in pg_subscription and logged as DDL.
            var conninfo = string.Join(' ', InstanceConfig.Pair("host", source.Host), InstanceConfig.Pair("port", source.Port.ToString(CultureInfo.InvariantCulture)),
                InstanceConfig.Pair("dbname", databases[i]), InstanceConfig.Pair("user", source.User), InstanceConfig.Pair("passfile", passFile), "sslmode=require");
            await using var subscriber = await UpgradeSql.OpenAsync(target, databases[i], ct).ConfigureAwait(false);
            await AdminSql.ExecuteFormattedAsync(subscriber, "SELECT format('CREATE SUBSCRIPTION %I CONNECTION %L PUBLICATION %I', $1::text, $2::text, $3::text)",
                ct, SubscriptionPrefix + i.ToString(CultureInfo.InvariantCulture), conninfo, UpgradeSql.Publication).ConfigureAwait(false);
        }
        var tables = 0;
        foreach (var database in databases) tables += await WaitForInitialSyncAsync(target, database, ct).ConfigureAwait(false);
        await onPhase(new RehearsalPhase("initial copy", watch.Elapsed, $"{tables} table(s) copied and streaming in {databases.Count} subscription(s)")).ConfigureAwait(false);

        watch.Restart();
        long maxLag = 0;
        long lastId = 0;
        await using (var writer = await UpgradeSql.OpenAsync(source, source.Database, ct).ConfigureAwait(false))
        {
            for (var n = 1; n <= request.CatchUpWrites; n++)
            {
                lastId = (long)(await AdminSql.ScalarAsync(writer, $"INSERT INTO public.{UpgradeSql.ProbeTable} (note) VALUES ('rehearsal write') RETURNING id", ct).ConfigureAwait(false))!;
                if (n % 25 == 0) maxLag = Math.Max(maxLag, await LagBytesAsync(writer, ct).ConfigureAwait(false));
            }
            maxLag = Math.Max(maxLag, await LagBytesAsync(writer, ct).ConfigureAwait(false));
        }
        var writesDone = watch.Elapsed;
        await WaitForRowAsync(target, source.Database, lastId, ct).ConfigureAwait(false);
        await onPhase(new RehearsalPhase("catch-up", watch.Elapsed,
            $"{request.CatchUpWrites} writes in {writesDone.TotalSeconds:0.00}s, largest lag {maxLag} bytes, caught up {(watch.Elapsed - writesDone).TotalMilliseconds:0} ms after the last write")).ConfigureAwait(false);

        var gap = await CutoverAsync(source, target, databases, ct).ConfigureAwait(false);
        await onPhase(new RehearsalPhase("cutover", gap, $"writes stopped on the source, marker replicated, sequences carried over, subscriptions dropped, first write on the target after {gap.TotalMilliseconds:0} ms")).ConfigureAwait(false);

        var counts = await CompareCountsAsync(source, target, databases, issues, onPhase, ct).ConfigureAwait(false);
        var smoke = await SmokeAsync(request, target, databases, onPhase, ct).ConfigureAwait(false);
        return new RehearsalOutcome(issues, counts, smoke, gap, maxLag);
    }

    private async Task<TimeSpan> CutoverAsync(ReplicaEndpoint source, ReplicaEndpoint target, IReadOnlyList<string> databases, CancellationToken ct)
    {
        var gap = Stopwatch.StartNew();
        await using (var admin = await AdminSql.OpenAsync(source, ct).ConfigureAwait(false))
        {
            await UpgradeSql.ExecuteAsync(admin, "ALTER SYSTEM SET default_transaction_read_only = on", ct).ConfigureAwait(false);
            await UpgradeSql.ExecuteAsync(admin, "SELECT pg_reload_conf()", ct).ConfigureAwait(false);
            await UpgradeSql.ExecuteAsync(admin, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()", ct).ConfigureAwait(false);
        }
        foreach (var database in databases)
        {
            // The control plane's own last write, through the read-only default: when the target has it, it has everything before it.
            long marker;
            await using (var connection = await UpgradeSql.OpenAsync(source, database, ct).ConfigureAwait(false))
            await using (var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false))
            {
                await UpgradeSql.ExecuteAsync(connection, "SET TRANSACTION READ WRITE", ct).ConfigureAwait(false);
                marker = (long)(await AdminSql.ScalarAsync(connection, $"INSERT INTO public.{UpgradeSql.ProbeTable} (note) VALUES ('cutover marker') RETURNING id", ct).ConfigureAwait(false))!;
                await tx.CommitAsync(ct).ConfigureAwait(false);
            }
            await WaitForRowAsync(target, database, marker, ct).ConfigureAwait(false);
        }
        for (var i = 0; i < databases.Count; i++)
        {
            IReadOnlyList<(string Schema, string Name, long Value)> sequences;
            await using (var connection = await UpgradeSql.OpenAsync(source, databases[i], ct).ConfigureAwait(false))
            {
                sequences = await UpgradeSql.ListAsync(connection, "SELECT schemaname, sequencename, last_value FROM pg_sequences WHERE last_value IS NOT NULL",
                    r => (r.GetString(0), r.GetString(1), r.GetInt64(2)), ct).ConfigureAwait(false);
            }
            await using var subscriber = await UpgradeSql.OpenAsync(target, databases[i], ct).ConfigureAwait(false);
            foreach (var (schema, name, value) in sequences)
            {
                await UpgradeSql.ExecuteAsync(subscriber, "SELECT setval(format('%I.%I', $1::text, $2::text)::regclass, $3, true)", ct, schema, name, value).ConfigureAwait(false);
            }
            await AdminSql.ExecuteFormattedAsync(subscriber, "SELECT format('DROP SUBSCRIPTION %I', $1::text)", ct, SubscriptionPrefix + i.ToString(CultureInfo.InvariantCulture)).ConfigureAwait(false);
        }
        await using (var first = await UpgradeSql.OpenAsync(target, target.Database, ct).ConfigureAwait(false))
        {
            await AdminSql.ScalarAsync(first, $"INSERT INTO public.{UpgradeSql.ProbeTable} (note) VALUES ('first write on the upgraded copy') RETURNING id", ct).ConfigureAwait(false);
        }
        return gap.Elapsed;
    }

    /// <summary>Bytes of WAL the subscriptions have not confirmed yet (the largest over their slots).</summary>
    private static async Task<long> LagBytesAsync(Npgsql.NpgsqlConnection source, CancellationToken ct) =>
        await AdminSql.ScalarAsync(source,
            $"SELECT coalesce(max(pg_current_wal_lsn() - confirmed_flush_lsn), 0)::bigint FROM pg_replication_slots WHERE slot_name LIKE '{SubscriptionPrefix}%'", ct).ConfigureAwait(false) is long lag ? lag : 0;

    /// <summary>Waits until every table of the database's subscription is synchronised; answers how many there are.</summary>
    private static async Task<int> WaitForInitialSyncAsync(ReplicaEndpoint target, string database, CancellationToken ct)
    {
        await using var connection = await UpgradeSql.OpenAsync(target, database, ct).ConfigureAwait(false);
        while (true)
        {
            var states = await UpgradeSql.ListAsync(connection, "SELECT srsubstate::text FROM pg_subscription_rel", r => r.GetString(0), ct).ConfigureAwait(false);
            if (states.All(s => s == "r")) return states.Count;
            await Task.Delay(Poll, ct).ConfigureAwait(false);
        }
    }

    private static async Task WaitForRowAsync(ReplicaEndpoint target, string database, long id, CancellationToken ct)
    {
        await using var connection = await UpgradeSql.OpenAsync(target, database, ct).ConfigureAwait(false);
        while ((bool)(await AdminSql.ScalarAsync(connection, $"SELECT NOT EXISTS (SELECT 1 FROM public.{UpgradeSql.ProbeTable} WHERE id = $1)", ct, id).ConfigureAwait(false))!)
        {
            await Task.Delay(Poll, ct).ConfigureAwait(false);
        }
    }
}
