using ControlPlane.Cli.Common;
using Grpc.Core;
using Xunit;

namespace ControlPlane.Tests.Cli;

public sealed class CliFailureTests
{
    private static readonly Uri Endpoint = new("http://127.0.0.1:7400");

    [Theory]
    [InlineData(StatusCode.NotFound, "NOT_FOUND")]
    [InlineData(StatusCode.InvalidArgument, "INVALID_ARGUMENT")]
    [InlineData(StatusCode.FailedPrecondition, "FAILED_PRECONDITION")]
    [InlineData(StatusCode.Cancelled, "CANCELLED")]
    [InlineData(StatusCode.OK, "OK")]
    public void Status_codes_are_shown_by_their_canonical_grpc_names(StatusCode code, string name) =>
        Assert.Equal(name, CliFailure.StatusName(code));

    [Theory]
    [InlineData(StatusCode.Unavailable)]
    [InlineData(StatusCode.DeadlineExceeded)]
    public void Unreachable_statuses_exit_3(StatusCode code)
    {
        var failure = CliFailure.From(new RpcException(new Status(code, "x")), Endpoint);
        Assert.Equal(3, failure.ExitCode);
        Assert.Contains("http://127.0.0.1:7400", failure.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(StatusCode.NotFound)]
    [InlineData(StatusCode.InvalidArgument)]
    [InlineData(StatusCode.PermissionDenied)]
    public void Refusals_exit_1_with_code_and_message(StatusCode code)
    {
        var failure = CliFailure.From(new RpcException(new Status(code, "because")), Endpoint);
        Assert.Equal(1, failure.ExitCode);
        Assert.Equal($"error: {CliFailure.StatusName(code)}: because", failure.Message);
    }

    [Fact]
    public void A_gateway_refusing_commands_during_a_catalog_outage_exits_3_with_its_own_message()
    {
        var detail = "the catalog is unreachable since 2026-12-06 11:11:03Z: commands are refused until it returns; queries and watches still answer.";
        var failure = CliFailure.From(new RpcException(new Status(StatusCode.Unavailable, detail)), Endpoint);
        Assert.Equal(3, failure.ExitCode);
        Assert.Contains(detail, failure.Message, StringComparison.Ordinal);
        Assert.Contains("cpctl catalog status", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Is the silo running?", failure.Message, StringComparison.Ordinal);
    }
}
