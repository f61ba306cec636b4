using ControlPlane.Migrations.Impact;
using ControlPlane.Migrations.Parsing;

namespace ControlPlane.Migrations.Lint.Rules;

/// <summary>How a file holds its locks: waiting without a timeout, piling locks up, owning the transaction.</summary>
internal static class TransactionRules
{
    public static IEnumerable<Rule> All =>
    [
        new(new LintRule("CP015", "missing-lock-timeout", Severity.Warning,
                "Lock-taking statement with no lock_timeout set earlier in the file",
                "A statement waiting for its lock queues every later query on the table behind it: one long transaction elsewhere turns a millisecond ALTER into an outage. The rollout sets a lock_timeout per target; setting it in the file states what this statement can afford.",
                "ALTER TABLE orders ADD COLUMN note text;",
                "SET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN note text;"),
            LockTimeout),
        new(new LintRule("CP027", "multiple-locking-alters", Severity.Warning,
                "More than one lock-taking ALTER on the same table in one transaction",
                "The first ALTER's lock is held until the file commits, so the second one (and whatever it scans or rewrites) runs while all traffic to the table waits.",
                "ALTER TABLE orders ADD COLUMN a text;\nALTER TABLE orders ADD COLUMN b text;",
                "ALTER TABLE orders ADD COLUMN a text, ADD COLUMN b text;  -- one statement, one short lock (or two files)"),
            MultipleAlters),
        new(new LintRule("CP028", "transaction-control", Severity.Error,
                "BEGIN / COMMIT / ROLLBACK / SAVEPOINT in a migration",
                "The rollout owns the transaction (and records the version inside it): a COMMIT in the file would make part of the version permanent before its history row, and a BEGIN would nest.",
                "BEGIN; ALTER TABLE orders ADD COLUMN note text; COMMIT;",
                "ALTER TABLE orders ADD COLUMN note text;  -- the rollout wraps the file in one transaction"),
            TransactionControl),
    ];

    private static IEnumerable<RuleHit> LockTimeout(StatementContext ctx)
    {
        // Once per file: the first statement that waits without a timeout is the one to fix.
        if (ctx.LockTimeoutSet || ctx.LockTakenWithoutTimeout)
        {
            yield break;
        }
        var blocking = ctx.Impact.Locks.Where(l => l.Level >= LockLevel.Share && ctx.Existing(l.Table)).ToArray();
        if (blocking.Length > 0)
        {
            var lockText = blocking.Max(l => l.Level).ToSql();
            yield return new RuleHit($"waits for {lockText} on {string.Join(", ", blocking.Select(l => l.Table).Distinct())} with no lock_timeout set",
                "SET lock_timeout = '2s';  -- first statement of the file (SET LOCAL in a transactional file)");
        }
    }

    private static IEnumerable<RuleHit> MultipleAlters(StatementContext ctx)
    {
        if (!ctx.Transactional || ctx.Statement.Kind != "AlterTableStmt")
        {
            yield break;
        }
        foreach (var table in ctx.Impact.Locks.Where(l => l.Level >= LockLevel.ShareRowExclusive && ctx.Existing(l.Table)).Select(l => l.Table).Distinct())
        {
            var key = table.ToString();
            var seen = ctx.LockingAlters.GetValueOrDefault(key);
            if (seen > 0)
            {
                yield return new RuleHit($"{table} is already locked by an earlier ALTER in this transaction; this one extends the time it stays locked",
                    $"Combine the subcommands into one ALTER TABLE {table} …, …; or move this one to its own file.");
            }
        }
    }

    private static IEnumerable<RuleHit> TransactionControl(StatementContext ctx)
    {
        if (ctx.Statement.Kind == "TransactionStmt")
        {
            var kind = ctx.Statement.Node.Str("kind").Replace("TRANS_STMT_", "", StringComparison.Ordinal);
            yield return new RuleHit($"{kind} in a migration file fights the rollout's own transaction",
                "Remove it; for statements that must run outside a transaction, head the file with '-- controlplane:no-transaction'.");
        }
    }
}
