using ControlPlane.Protos.V1;
using ControlPlane.Silo.Security;
using Google.Protobuf.WellKnownTypes;
using Xunit;

namespace ControlPlane.Tests.Security;

public sealed class AuditTextTests
{
    [Fact]
    public void Fields_marked_secret_are_blanked()
    {
        var json = AuditText.Arguments(new CreateTokenResponse { Token = "cpt_secret_value", Info = new TokenInfo { Name = "ci" } });
        Assert.DoesNotContain("cpt_secret_value", json, StringComparison.Ordinal);
        Assert.Contains(AuditText.Redacted, json, StringComparison.Ordinal);
        Assert.Contains("\"ci\"", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Redaction_leaves_the_request_itself_untouched()
    {
        var response = new CreateTokenResponse { Token = "cpt_secret_value" };
        AuditText.Arguments(response);
        Assert.Equal("cpt_secret_value", response.Token);
    }

    [Fact]
    public void The_target_reads_like_a_path_of_the_usual_fields()
    {
        Assert.Equal("prod/oltp/oltp-2", AuditText.Target(new GetReplicaRequest { Environment = "prod", Tier = "oltp", Replica = "oltp-2" }));
        Assert.Equal("oltp", AuditText.Target(new GetTierRequest { Tier = "oltp" }));
    }

    [Fact]
    public void Untrusted_text_is_bounded_and_control_characters_escaped()
    {
        Assert.Equal("a\\u0000b\\u000a", AuditText.Clean("a\0b\n", 100));
        Assert.Equal(11, AuditText.Clean(new string('x', 500), 10).Length);
    }

    [Fact]
    public void Out_of_range_timestamps_still_give_arguments_instead_of_an_error()
    {
        var json = AuditText.Arguments(new ListAuditEventsRequest { Since = new Timestamp { Seconds = long.MaxValue, Nanos = -1 } });
        Assert.Contains("since", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Huge_arguments_are_cut()
    {
        var json = AuditText.Arguments(new GetTierRequest { Tier = new string('x', 100_000) });
        Assert.True(json.Length <= AuditText.MaxArgumentsLength + 10);
    }
}
