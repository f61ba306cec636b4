using ControlPlane.Client;
using Grpc.Core;

namespace ControlPlane.Cli.Common;

/// <summary>How a failed call is reported: the exit code and the line(s) for stderr.</summary>
internal sealed record CliFailure(int ExitCode, string Message)
{
    public const string StartSiloHint = "dotnet run --project silo/ControlPlane.Silo";

    /// <summary>Maps an exception from a call to <paramref name="endpoint"/> to an exit code and message.</summary>
    public static CliFailure From(Exception exception, Uri endpoint) => exception switch
    {
        // The gateway itself answered: it runs, but its catalog does not (docs/catalog.md, "Outage behaviour").
        RpcException { StatusCode: StatusCode.Unavailable } rpc when rpc.Status.DebugException is null && rpc.Status.Detail.Contains("the catalog is unreachable", StringComparison.Ordinal) =>
            new CliFailure(ExitCodes.Unreachable, $"error: UNAVAILABLE: {rpc.Status.Detail}\nSee 'cpctl catalog status' and docs/catalog.md (runbook)."),
        RpcException { StatusCode: StatusCode.Unavailable or StatusCode.DeadlineExceeded } rpc =>
            Unreachable(endpoint, Cause(rpc)),
        RpcException rpc => new CliFailure(ExitCodes.Refused, $"error: {StatusName(rpc.StatusCode)}: {rpc.Status.Detail}"),
        HttpRequestException http => Unreachable(endpoint, http.Message),
        _ => new CliFailure(ExitCodes.Refused, $"error: unexpected {exception.GetType().Name}: {exception.Message}"),
    };

    // "Error connecting to subchannel." alone does not say why; the socket error ("Connection refused") does.
    private static string Cause(RpcException rpc)
    {
        var cause = $"{StatusName(rpc.StatusCode)}: {rpc.Status.Detail}";
        var inner = rpc.Status.DebugException;
        while (inner?.InnerException is not null)
        {
            inner = inner.InnerException;
        }

        return inner is null ? cause : $"{cause} {inner.Message}";
    }

    public static CliFailure Unreachable(Uri endpoint, string cause) => new(
        ExitCodes.Unreachable,
        $"error: cannot reach the control plane at {ControlPlaneEndpoint.Display(endpoint)} ({cause})."
        + System.Environment.NewLine
        + $"Is the silo running? Start one with: {StartSiloHint}"
        + System.Environment.NewLine
        + $"or point cpctl at another gateway with --endpoint URL or {ControlPlaneEndpoint.EnvironmentVariable}.");

    /// <summary>The canonical gRPC name of a status code: NotFound becomes NOT_FOUND.</summary>
    public static string StatusName(StatusCode code)
    {
        var name = code.ToString();
        var builder = new System.Text.StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i]) && char.IsLower(name[i - 1]))
            {
                builder.Append('_');
            }

            builder.Append(char.ToUpperInvariant(name[i]));
        }

        return builder.ToString();
    }
}
