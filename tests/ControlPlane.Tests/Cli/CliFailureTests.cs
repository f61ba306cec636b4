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
}
