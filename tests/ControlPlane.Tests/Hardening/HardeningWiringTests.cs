using ControlPlane.Cli.Hardening;
using ControlPlane.Protos.V1;
using ControlPlane.Silo.Hardening;
using Microsoft.Extensions.Configuration;
using Xunit;

namespace ControlPlane.Tests.Hardening;

public sealed class HardeningWiringTests
{
    private static IConfiguration Config(params (string Key, string Value)[] pairs) =>
        new ConfigurationBuilder().AddInMemoryCollection(pairs.Select(p => new KeyValuePair<string, string?>(p.Key, p.Value))).Build();

    [Fact]
    public void The_embedded_backup_repository_is_an_accepted_exception_with_its_reason()
    {
        var expectations = HardeningHosting.Read(Config());
        Assert.Equal(HardeningHosting.LocalRepositoryReason, expectations.AcceptedExceptions["CP-BAK-01"]);
        Assert.Empty(expectations.Validate());
    }

    [Fact]
    public void A_configured_backup_repository_gets_no_allowance()
    {
        var expectations = HardeningHosting.Read(Config(("ControlPlane:Backups:DefaultPolicy:Repository", "/srv/backups")));
        Assert.False(expectations.AcceptedExceptions.ContainsKey("CP-BAK-01"));
    }

    [Fact]
    public void A_declared_encrypted_repository_needs_no_exception()
    {
        var expectations = HardeningHosting.Read(Config(("ControlPlane:Hardening:BackupRepositoryEncrypted", "true")));
        Assert.False(expectations.AcceptedExceptions.ContainsKey("CP-BAK-01"));
    }

    [Fact]
    public void The_audit_text_shows_the_fix_of_a_failure_and_the_reason_of_an_accepted_exception()
    {
        var audit = new SecurityAudit { Tier = "oltp", Score = 80, FailedHigh = 1 };
        var replica = new ReplicaSecurityAudit { Replica = "oltp-1", Score = 80, Failed = 1, Accepted = 1, Passed = 1 };
        replica.Findings.Add(new HardeningFinding { Id = "CP-AUTH-02", Title = "No trust authentication", Severity = CheckSeverity.High, Result = CheckResult.Fail, Current = "line 3: trust", Remediation = "Replace trust" });
        replica.Findings.Add(new HardeningFinding { Id = "CP-BAK-01", Title = "Encrypted", Severity = CheckSeverity.Medium, Result = CheckResult.Accepted, AcceptedReason = "dev disk" });
        replica.Findings.Add(new HardeningFinding { Id = "CP-TLS-01", Title = "TLS is on", Severity = CheckSeverity.High, Result = CheckResult.Pass });
        audit.Replicas.Add(replica);

        var text = HardeningRendering.Audit(audit, all: false);
        Assert.Contains("FAIL     CP-AUTH-02  high   No trust authentication", text, StringComparison.Ordinal);
        Assert.Contains("fix:      Replace trust", text, StringComparison.Ordinal);
        Assert.Contains("accepted: dev disk", text, StringComparison.Ordinal);
        Assert.DoesNotContain("CP-TLS-01", text, StringComparison.Ordinal);
        Assert.Contains("CP-TLS-01", HardeningRendering.Audit(audit, all: true), StringComparison.Ordinal);
    }
}
