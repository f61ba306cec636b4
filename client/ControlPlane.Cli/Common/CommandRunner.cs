using System.CommandLine;
using ControlPlane.Client;
using ControlPlane.Client.Security;
using Grpc.Core;

namespace ControlPlane.Cli.Common;

/// <summary>The shell around every command: endpoint resolution, client lifetime, and errors to exit codes.</summary>
internal static class CommandRunner
{
    public static void SetHandler(
        Command command,
        GlobalOptions globals,
        CliIo io,
        Func<CommandContext, ParseResult, CancellationToken, Task<int>> handler,
        int exitCodeWhenInterrupted = ExitCodes.Interrupted)
    {
        command.SetAction(async (parsed, ct) =>
        {
            Uri endpoint;
            try
            {
                endpoint = ControlPlaneEndpoint.Resolve(parsed.GetValue(globals.Endpoint));
            }
            catch (InvalidEndpointException e)
            {
                await io.Error.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            ResolvedToken? token;
            try
            {
                token = ControlPlaneToken.Resolve(parsed.GetValue(globals.Token), parsed.GetValue(globals.TokenFile));
            }
            catch (InvalidTokenSourceException e)
            {
                await io.Error.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            using var client = new ControlPlaneClient(endpoint, new ControlPlaneClientOptions { Token = token?.Token });
            var context = new CommandContext(
                client,
                parsed.GetValue(globals.Environment) ?? string.Empty,
                parsed.GetValue(globals.Json),
                io);
            try
            {
                return await handler(context, parsed, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (ct.IsCancellationRequested && e is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled })
            {
                return exitCodeWhenInterrupted;
            }
#pragma warning disable CA1031 // The shell's job is to turn any failure into an exit code and a message.
            catch (Exception e)
#pragma warning restore CA1031
            {
                var failure = CliFailure.From(e, endpoint);
                await io.Error.WriteLineAsync(failure.Message).ConfigureAwait(false);
                return failure.ExitCode;
            }
        });
    }
}
