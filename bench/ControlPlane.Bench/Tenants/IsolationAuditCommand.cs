using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using ControlPlane.Bench.Common;
using ControlPlane.Grains.Tenants;
using ControlPlane.Postgres.Tenants;
using Npgsql;

namespace ControlPlane.Bench.Tenants;

/// <summary>
/// <c>isolation-audit</c>: the isolation audit's catalog read and rules over N schema-placement tenants (role, schema
/// owned by the admin, grants, one table with a serial key owned by the tenant) and M shared-placement tenants (a
/// policy and grants each on one shared table), built the way register leaves them, on a scratch server.
/// </summary>
public static class IsolationAuditCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var connection = new Option<string>("--connection") { Description = "Npgsql connection string of a scratch server as a superuser (roles tenant_ib_* and schemas tenant_ib_*, tenant_shared are replaced)", Required = true };
        var schemas = new Option<int>("--schemas") { Description = "Schema-placement tenants", DefaultValueFactory = _ => 1000 };
        var shared = new Option<int>("--shared") { Description = "Shared-placement tenants", DefaultValueFactory = _ => 200 };
        var rounds = new Option<int>("--rounds") { Description = "Timed rounds (after one warm-up)", DefaultValueFactory = _ => 5 };
        var command = new Command("isolation-audit", "Isolation audit time (catalog read + rules) over N tenant schemas and M shared tenants") { connection, schemas, shared, rounds };
        command.SetAction(async (parsed, ct) =>
        {
            await stderr.WriteLineAsync($"load average before: {MachineInfo.LoadAverage()}");
            await using var db = new NpgsqlConnection(parsed.GetValue(connection));
            await db.OpenAsync(ct);
            var (n, m) = (parsed.GetValue(schemas), parsed.GetValue(shared));
            await stderr.WriteLineAsync($"creating {n} tenant schemas and {m} shared tenants");
            await ExecuteAsync(db, Setup(n, m), ct);
            var tenants = Enumerable.Range(0, n).Select(i => new AuditedTenant($"ib-{i}", PlacementKind.Schema))
                .Concat(Enumerable.Range(0, m).Select(i => new AuditedTenant($"ib-s{i}", PlacementKind.Shared))).ToList();
            var (readMs, rulesMs) = (new List<double>(), new List<double>());
            IsolationFacts? facts = null;
            IReadOnlyList<IsolationFinding> findings = [];
            for (var round = 0; round <= parsed.GetValue(rounds); round++)
            {
                var clock = Stopwatch.StartNew();
                facts = await IsolationFactsReader.ReadAsync(db, ct);
                var read = clock.Elapsed.TotalMilliseconds;
                clock.Restart();
                findings = IsolationAuditRules.Evaluate(facts, tenants);
                var rules = clock.Elapsed.TotalMilliseconds;
                if (round == 0) continue;
                readMs.Add(read);
                rulesMs.Add(rules);
            }
            await ExecuteAsync(db, Teardown(n, m), ct);
            await stderr.WriteLineAsync($"load average after: {MachineInfo.LoadAverage()}");
            await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"""
                tenants                {n} schema + {m} shared
                facts                  {facts!.Schemas.Count} schemas, {facts.Tables.Count} tables, {facts.Policies.Count} policies, {facts.Roles.Count} roles, {facts.Grants.Count} grants, {facts.Sequences.Count} sequences
                findings               {findings.Count} ({string.Join(", ", findings.GroupBy(f => f.Rule).Select(g => $"{g.Key} {g.Count()}"))})
                catalog read           median {Median(readMs):F0} ms, max {readMs.Max():F0} ms over {readMs.Count} rounds
                rules                  median {Median(rulesMs):F0} ms, max {rulesMs.Max():F0} ms over {rulesMs.Count} rounds
                """));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static string Setup(int schemas, int shared)
    {
        var sql = new StringBuilder(Teardown(schemas, shared));
        sql.Append("CREATE SCHEMA tenant_shared; REVOKE ALL ON SCHEMA tenant_shared FROM PUBLIC;\n");
        sql.Append("CREATE TABLE tenant_shared.notes (id bigserial PRIMARY KEY, tenant_id text NOT NULL, body text); CREATE INDEX ON tenant_shared.notes (tenant_id);\n");
        sql.Append("ALTER TABLE tenant_shared.notes ENABLE ROW LEVEL SECURITY; ALTER TABLE tenant_shared.notes FORCE ROW LEVEL SECURITY;\n");
        for (var i = 0; i < schemas; i++)
        {
            var role = $"tenant_ib_{i}";
            sql.Append(CultureInfo.InvariantCulture, $"CREATE ROLE {role} LOGIN NOINHERIT CONNECTION LIMIT 10; CREATE SCHEMA {role}; REVOKE ALL ON SCHEMA {role} FROM PUBLIC; GRANT USAGE, CREATE ON SCHEMA {role} TO {role};\n");
            sql.Append(CultureInfo.InvariantCulture, $"CREATE TABLE {role}.orders (id serial PRIMARY KEY, body text); ALTER TABLE {role}.orders OWNER TO {role};\n");
        }
        for (var i = 0; i < shared; i++)
        {
            var role = $"tenant_ib_s{i}";
            sql.Append(CultureInfo.InvariantCulture, $"CREATE ROLE {role} LOGIN NOINHERIT CONNECTION LIMIT 10; GRANT USAGE ON SCHEMA tenant_shared TO {role};\n");
            sql.Append(CultureInfo.InvariantCulture, $"CREATE POLICY {role} ON tenant_shared.notes AS PERMISSIVE FOR ALL TO {role} USING (tenant_id = 'ib-s{i}') WITH CHECK (tenant_id = 'ib-s{i}');\n");
            sql.Append(CultureInfo.InvariantCulture, $"GRANT SELECT, INSERT, UPDATE, DELETE ON tenant_shared.notes TO {role};\n");
        }
        return sql.ToString();
    }

    private static string Teardown(int schemas, int shared)
    {
        var sql = new StringBuilder("DROP SCHEMA IF EXISTS tenant_shared CASCADE;\n");
        for (var i = 0; i < schemas; i++) sql.Append(CultureInfo.InvariantCulture, $"DROP SCHEMA IF EXISTS tenant_ib_{i} CASCADE; DROP ROLE IF EXISTS tenant_ib_{i};\n");
        for (var i = 0; i < shared; i++) sql.Append(CultureInfo.InvariantCulture, $"DROP ROLE IF EXISTS tenant_ib_s{i};\n");
        return sql.ToString();
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 1200 };
        await command.ExecuteNonQueryAsync(ct);
    }
}
