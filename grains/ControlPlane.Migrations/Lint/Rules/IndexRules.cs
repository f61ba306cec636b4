using ControlPlane.Migrations.Parsing;

namespace ControlPlane.Migrations.Lint.Rules;

/// <summary>Index builds and drops: plain forms block writes (or everything) for the whole build.</summary>
internal static class IndexRules
{
    public static IEnumerable<Rule> All =>
    [
        new(new LintRule("CP001", "create-index-not-concurrently", Severity.Error,
                "CREATE INDEX without CONCURRENTLY on an existing table",
                "A plain CREATE INDEX holds a SHARE lock for the whole build: every INSERT, UPDATE and DELETE on the table waits until the index is complete.",
                "CREATE INDEX orders_customer_idx ON orders (customer_id);",
                "-- controlplane:no-transaction\nCREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);"),
            CreateIndex),
        new(new LintRule("CP002", "drop-index-not-concurrently", Severity.Error,
                "DROP INDEX without CONCURRENTLY",
                "A plain DROP INDEX takes ACCESS EXCLUSIVE on the index's table: reads and writes wait, and so does everything queued behind it.",
                "DROP INDEX orders_customer_idx;",
                "-- controlplane:no-transaction\nDROP INDEX CONCURRENTLY orders_customer_idx;"),
            DropIndex),
        new(new LintRule("CP003", "concurrently-in-transaction", Severity.Error,
                "CONCURRENTLY inside a transactional file",
                "CREATE/DROP/REINDEX … CONCURRENTLY and DETACH PARTITION … CONCURRENTLY cannot run inside a transaction block; the rollout runs each file in one transaction unless its header says otherwise, so the statement fails on every target.",
                "CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);",
                "-- controlplane:no-transaction\nCREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);"),
            ConcurrentlyInTransaction),
        new(new LintRule("CP024", "reindex-not-concurrently", Severity.Error,
                "REINDEX without CONCURRENTLY",
                "A plain REINDEX blocks writes to the table (and reads that would use the index) for the whole rebuild.",
                "REINDEX INDEX orders_customer_idx;",
                "-- controlplane:no-transaction\nREINDEX INDEX CONCURRENTLY orders_customer_idx;"),
            Reindex),
    ];

    private static IEnumerable<RuleHit> CreateIndex(StatementContext ctx)
    {
        var node = ctx.Statement.Node;
        if (ctx.Statement.Kind != "IndexStmt" || node.Bool("concurrent"))
        {
            yield break;
        }
        var table = node.Field("relation").Table();
        if (ctx.Existing(table))
        {
            var name = node.Str("idxname");
            yield return new RuleHit(
                $"CREATE INDEX {name} on {table} blocks writes to {table} until the build ends",
                $"Move it to a file headed '-- controlplane:no-transaction' and write CREATE {(node.Bool("unique") ? "UNIQUE " : "")}INDEX CONCURRENTLY {(name.Length > 0 ? name + " " : "")}ON {table} (…).");
        }
    }

    private static IEnumerable<RuleHit> DropIndex(StatementContext ctx)
    {
        var node = ctx.Statement.Node;
        var dropped = Impact.ImpactAnalyzer.DroppedNames(node).Where(ctx.Existing).ToArray();
        if (ctx.Statement.Kind == "DropStmt" && node.Str("removeType") == "OBJECT_INDEX" && !node.Bool("concurrent") && dropped.Length > 0)
        {
            var names = string.Join(", ", dropped);
            yield return new RuleHit($"DROP INDEX {names} takes ACCESS EXCLUSIVE on its table",
                $"In a file headed '-- controlplane:no-transaction': DROP INDEX CONCURRENTLY {names}; (one index per statement).");
        }
    }

    private static IEnumerable<RuleHit> ConcurrentlyInTransaction(StatementContext ctx)
    {
        if (!ctx.Transactional)
        {
            yield break;
        }
        var node = ctx.Statement.Node;
        var concurrent = ctx.Statement.Kind switch
        {
            "IndexStmt" or "DropStmt" => node.Bool("concurrent"),
            "ReindexStmt" => node.Nodes("params", "DefElem").Any(d => d.Str("defname") == "concurrently"),
            "AlterTableStmt" => Statements.AlterCommands(ctx).Any(a =>
                a.Cmd.Str("subtype") == "AT_DetachPartition" && a.Cmd.Field("def").Field("PartitionCmd").Bool("concurrent")),
            _ => false,
        };
        if (concurrent)
        {
            yield return new RuleHit(
                $"{ctx.Statement.Kind.Replace("Stmt", "", StringComparison.Ordinal)} … CONCURRENTLY cannot run inside the transaction this file runs in",
                "Put '-- controlplane:no-transaction' in the file's header (and keep such a file to statements that are safe to retry one by one).");
        }
    }

    private static IEnumerable<RuleHit> Reindex(StatementContext ctx)
    {
        var node = ctx.Statement.Node;
        if (ctx.Statement.Kind == "ReindexStmt" && !node.Nodes("params", "DefElem").Any(d => d.Str("defname") == "concurrently"))
        {
            var target = node.Field("relation").ValueKind == System.Text.Json.JsonValueKind.Object
                ? node.Field("relation").Table().ToString()
                : node.Str("name");
            var kind = node.Str("kind").Replace("REINDEX_OBJECT_", "", StringComparison.Ordinal);
            yield return new RuleHit($"REINDEX {kind} {target} blocks writes for the whole rebuild",
                $"In a file headed '-- controlplane:no-transaction': REINDEX {kind} CONCURRENTLY {target};");
        }
    }
}
