using System.Globalization;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using Microsoft.Extensions.Logging.Abstractions;

namespace ControlPlane.Postgres.Backups;

/// <summary>
/// Runs a PostgreSQL client tool (pg_dump, pg_restore, pg_amcheck) against an instance as its superuser. The
/// password reaches the tool through a 0600 passfile in a private temporary directory named by PGPASSFILE, never
/// the command line; the directory is removed when the tool has finished.
/// </summary>
internal static class PgClientTool
{
    /// <param name="asPostgres">Run as the postgres OS user when root (for tools writing files postgres owns).</param>
    /// <param name="neverPrompt">Pass <c>--no-password</c> (pgbench has no such flag; without a terminal it cannot
    /// prompt anyway).</param>
    public static async Task<ProcessResult> RunAsync(
        string tool, ReplicaEndpoint endpoint, IReadOnlyList<string> arguments, bool asPostgres, TimeSpan timeout, CancellationToken ct,
        bool neverPrompt = true, string? workingDirectory = null)
    {
        var directory = Directory.CreateTempSubdirectory("cp-pgpass-").FullName;
        try
        {
            var passFile = Path.Combine(directory, "pgpass");
            if (asPostgres)
            {
                await OsUser.GiveToPostgresAsync(directory, recursive: false, ct).ConfigureAwait(false);
                await OsUser.EnsureAncestorsTraversableAsync(passFile, NullLogger.Instance, ct).ConfigureAwait(false);
            }
            await SecretFile.WriteForPostgresAsync(passFile, SecretFile.PgPassLine(endpoint.User, SecretFile.Read(endpoint.PasswordFile)), ct).ConfigureAwait(false);
            List<string> args =
            [
                "-h", endpoint.Host, "-p", endpoint.Port.ToString(CultureInfo.InvariantCulture), "-U", endpoint.User,
                .. (neverPrompt ? (string[])["--no-password"] : []),
                .. arguments,
            ];
            var spec = new ProcessSpec(tool, args)
            {
                AsPostgres = asPostgres,
                Timeout = timeout,
                WorkingDirectory = workingDirectory,
                Environment = new Dictionary<string, string> { ["PGPASSFILE"] = passFile },
            };
            return await ProcessRunner.RunAsync(spec, ct).ConfigureAwait(false);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>As <see cref="RunAsync"/>, throwing <see cref="ProcessFailedException"/> (command and stderr) on a non-zero exit.</summary>
    public static async Task<ProcessResult> RunCheckedAsync(
        string tool, ReplicaEndpoint endpoint, IReadOnlyList<string> arguments, bool asPostgres, TimeSpan timeout, CancellationToken ct)
    {
        var result = await RunAsync(tool, endpoint, arguments, asPostgres, timeout, ct).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            var said = (result.StandardError.Length > 0 ? result.StandardError : result.StandardOutput).Trim();
            throw new ProcessFailedException(
                $"'{Path.GetFileName(tool)} {string.Join(' ', arguments)}' against {endpoint.Tier}/{endpoint.Name} exited with {result.ExitCode}: {Tail(said)}");
        }
        return result;
    }

    public static string Tail(string text) => text.Length <= 800 ? text : "..." + text[^800..];
}
