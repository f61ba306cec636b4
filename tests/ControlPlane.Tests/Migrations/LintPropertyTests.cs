using ControlPlane.Migrations.Lint;
using ControlPlane.Migrations.Sets;
using CsCheck;
using Xunit;

namespace ControlPlane.Tests.Migrations;

/// <summary>The lint over arbitrary scripts built from migration fragments: it reports or refuses, never crashes.</summary>
public sealed class LintPropertyTests
{
    private static readonly string[] Fragments =
    [
        "CREATE TABLE t (id int PRIMARY KEY, a varchar(3), b timestamp);", "CREATE INDEX i ON t (a);", "CREATE INDEX CONCURRENTLY i ON t (a);",
        "DROP INDEX i;", "ALTER TABLE t ADD COLUMN c text NOT NULL;", "ALTER TABLE t ALTER COLUMN c SET NOT NULL;",
        "ALTER TABLE t ADD CONSTRAINT k CHECK (c IS NOT NULL) NOT VALID;", "ALTER TABLE t VALIDATE CONSTRAINT k;",
        "ALTER TABLE t RENAME TO u;", "DROP TABLE t;", "TRUNCATE t;", "VACUUM (FULL) t;", "SET lock_timeout = '1s';",
        "-- controlplane:ignore CP001 reason: fuzz\n", "-- controlplane:ignore\n", "/* comment */", "SELECT ';';",
        "DO $$ BEGIN DROP TABLE t; END $$;", "BEGIN;", "COMMIT;", "ALTER TABLE", "(", "'", "$$", "\n", " ", "ż",
    ];

    private static Gen<string> Pick(string[] choices) => Gen.Int[0, choices.Length - 1].Select(i => choices[i]);

    [Fact]
    public void Any_script_lints_or_is_refused_as_malformed_never_crashes() =>
        Pick(Fragments).Array[0, 12].Select(parts => string.Concat(parts)).Sample(sql =>
        {
            try
            {
                var report = MigrationSets.LintOne(sql);
                Assert.All(report.Findings, f => Assert.True(f.Position.Line >= 1 && f.Position.Column >= 1));
            }
            catch (MigrationSetException e)
            {
                Assert.All(e.Errors, error => Assert.Equal("V1__change.sql", error.FileName));
            }
        }, iter: 300);

    [Fact]
    public void Every_finding_names_a_known_rule_with_its_documented_severity() =>
        Pick(Fragments.Where(f => f.EndsWith(';')).ToArray()).Array[1, 8].Select(parts => string.Join('\n', parts)).Sample(sql =>
        {
            var report = MigrationSets.LintOne(sql);
            Assert.All(report.Findings, f =>
            {
                var rule = Assert.Single(MigrationLinter.Rules, r => r.Id == f.RuleId);
                Assert.Equal((rule.Slug, rule.Severity), (f.Slug, f.Severity));
            });
        }, iter: 200);
}
