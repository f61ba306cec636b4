using ControlPlane.Grains.Hardening;
using ControlPlane.Postgres.Hardening;
using Xunit;
using static ControlPlane.Tests.Hardening.HardenedFacts;

namespace ControlPlane.Tests.Hardening;

public sealed class HardeningChecksTests
{
    public static TheoryData<string> Ids => [.. HardeningCheckCases.All.Select(c => c.Id)];

    private static CheckCase Case(string id) => HardeningCheckCases.All.Single(c => c.Id == id);

    private static HardeningContext ContextOf(CheckCase c)
    {
        var expectations = new HardeningExpectations { BackupRepositoryEncrypted = true };
        if (c.Policy is not null) expectations = c.Policy(expectations);
        return new HardeningContext(expectations, c.PoolCapacity, 5, c.Now ?? HardenedFacts.Now);
    }

    [Fact]
    public void The_audit_has_at_least_thirty_checks_with_unique_ids_and_every_field_filled()
    {
        Assert.True(HardeningChecks.All.Count >= 30, $"{HardeningChecks.All.Count} checks");
        Assert.Equal(HardeningChecks.All.Count, HardeningChecks.Ids.Count);
        Assert.All(HardeningChecks.All, c =>
        {
            Assert.Matches("^CP-[A-Z]+-[0-9]{2}$", c.Id);
            Assert.False(string.IsNullOrWhiteSpace(c.Title + c.Expected + c.Rationale + c.Remediation));
            Assert.False(string.IsNullOrWhiteSpace(c.Remediation));
        });
    }

    [Fact]
    public void Every_check_has_a_case_that_breaks_it()
    {
        Assert.Equal(HardeningChecks.Ids.Order(StringComparer.Ordinal), HardeningCheckCases.All.Select(c => c.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_hardened_instance_passes_every_check()
    {
        var findings = HardeningAudit.Run(Facts, Context());
        Assert.All(findings, f => Assert.True(f.Result == CheckResult.Pass, $"{f.Id}: {f.Result} ({f.Current})"));
        Assert.Equal(100, HardeningAudit.Score(findings));
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void Each_check_passes_under_its_own_policy_on_hardened_facts(string id)
    {
        var c = Case(id);
        var policyOnly = c with { Now = null };
        var finding = HardeningAudit.Run(Facts, ContextOf(policyOnly)).Single(f => f.Id == id);
        // The pgaudit and backup-encryption cases break by policy alone; everything else passes on hardened facts.
        if (id is "CP-LOG-05" or "CP-BAK-01") Assert.Equal(CheckResult.Fail, finding.Result);
        else Assert.Equal(CheckResult.Pass, finding.Result);
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void Breaking_one_fact_fails_exactly_that_check(string id)
    {
        var c = Case(id);
        var findings = HardeningAudit.Run(c.Break(Facts), ContextOf(c));
        var failed = findings.Where(f => f.Result == CheckResult.Fail).Select(f => f.Id).ToList();
        Assert.Equal([id], failed);
        Assert.False(string.IsNullOrWhiteSpace(findings.Single(f => f.Id == id).Current));
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void A_fact_that_cannot_be_read_leaves_its_check_unknown_not_passed(string id)
    {
        var c = Case(id);
        if (c.Blind is null) return; // judged from declared policy only: never unknown
        var finding = HardeningAudit.Run(c.Blind(Facts), ContextOf(c)).Single(f => f.Id == id);
        Assert.Equal(CheckResult.Unknown, finding.Result);
    }

    [Fact]
    public void Max_connections_is_unknown_until_the_pool_has_sampled_its_capacity()
    {
        var finding = HardeningAudit.Run(Facts, Context() with { PoolCapacity = null }).Single(f => f.Id == "CP-NET-02");
        Assert.Equal(CheckResult.Unknown, finding.Result);
    }

    [Fact]
    public void Max_connections_of_an_instance_without_a_pool_is_unknown_with_the_reason_even_when_a_capacity_is_known()
    {
        var finding = HardeningAudit.Run(Facts, Context() with { PoolCapacity = 10, NoPool = "the catalog lends no connections" }).Single(f => f.Id == "CP-NET-02");
        Assert.Equal(CheckResult.Unknown, finding.Result);
        Assert.Contains("the catalog lends no connections", finding.Current, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unreadable_instance_is_unknown_everywhere_and_scores_zero()
    {
        var findings = HardeningAudit.Unreachable("connection refused", Context());
        Assert.All(findings, f => Assert.Equal(CheckResult.Unknown, f.Result));
        Assert.Equal(0, HardeningAudit.Score(findings));
    }

    [Fact]
    public void A_failure_named_as_accepted_exception_is_reported_accepted_with_its_reason_not_passed()
    {
        var expectations = new HardeningExpectations { AcceptedExceptions = { ["CP-BAK-01"] = "local repository, dev only" } };
        var finding = HardeningAudit.Run(Facts, Context(expectations)).Single(f => f.Id == "CP-BAK-01");
        Assert.Equal(CheckResult.Accepted, finding.Result);
        Assert.Equal("local repository, dev only", finding.AcceptedReason);
    }

    [Fact]
    public void An_accepted_exception_does_not_hide_a_check_that_passes()
    {
        var expectations = new HardeningExpectations { BackupRepositoryEncrypted = true, AcceptedExceptions = { ["CP-BAK-01"] = "whatever" } };
        Assert.Equal(CheckResult.Pass, HardeningAudit.Run(Facts, Context(expectations)).Single(f => f.Id == "CP-BAK-01").Result);
    }

    [Fact]
    public void The_score_weighs_a_failed_high_check_more_than_a_failed_low_one()
    {
        var high = HardeningAudit.Score(HardeningAudit.Run(Facts.With("ssl", "off"), Context()));
        var low = HardeningAudit.Score(HardeningAudit.Run(Facts.With("log_checkpoints", "off"), Context()));
        Assert.True(high < low, $"high {high}, low {low}");
        Assert.True(low < 100);
    }

    [Fact]
    public void A_tier_scores_as_its_weakest_replica()
    {
        Assert.Equal(70, HardeningAudit.TierScore([new ReplicaAudit("a", 90, []), new ReplicaAudit("b", 70, [])]));
    }

    [Theory]
    [InlineData("HIGH:MEDIUM:+3DES:!aNULL", "MEDIUM,3DES")]
    [InlineData("HIGH:!aNULL:!MD5", "")]
    [InlineData("ECDHE-RSA-AES256-GCM-SHA384:-LOW:!RC4", "")]
    [InlineData("ALL", "ALL")]
    public void Weak_cipher_classes_count_unless_negated(string ciphers, string weak)
    {
        Assert.Equal(weak, string.Join(',', HardeningChecks.WeakCiphers(ciphers)));
    }

    [Theory]
    [InlineData("%m [%p] %q%u@%d ", "")]
    [InlineData("%t %u ", "%p %d")]
    [InlineData("", "%m %p %u %d")]
    public void Log_line_prefix_must_name_time_process_user_and_database(string prefix, string missing)
    {
        Assert.Equal(missing, string.Join(' ', HardeningChecks.MissingPrefixEscapes(prefix)));
    }

    [Fact]
    public void Expectations_reject_an_accepted_exception_without_a_reason_or_for_an_unknown_check()
    {
        var errors = new HardeningExpectations { AcceptedExceptions = { ["CP-BAK-01"] = " ", ["CP-NOPE-01"] = "x" } }.Validate();
        Assert.Contains(errors, e => e.Contains("CP-BAK-01 has no reason", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("'CP-NOPE-01'", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("255.255.255.255", 32)]
    [InlineData("0.0.0.0", 0)]
    [InlineData("255.0.0.0", 8)]
    [InlineData("::", 0)]
    [InlineData(null, null)]
    public void Netmasks_become_prefix_lengths(string? mask, int? prefix)
    {
        Assert.Equal(prefix, HardeningFactsReader.PrefixLength(mask));
    }
}
