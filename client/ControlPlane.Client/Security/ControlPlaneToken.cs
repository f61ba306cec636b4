namespace ControlPlane.Client.Security;

/// <summary>Where a token came from, for messages ("from --token-file /x"); never the token itself.</summary>
public sealed record ResolvedToken(string Token, string Source)
{
    /// <summary>The source only: a record's generated ToString would print the secret.</summary>
    public override string ToString() => Source;
}

/// <summary>
/// How tools find the bearer token: an explicit token, else a token file, else <c>CONTROLPLANE_TOKEN</c>, else
/// <c>./.controlplane/admin.token</c> (what the embedded silo writes on first start) when it exists.
/// </summary>
public static class ControlPlaneToken
{
    public const string EnvironmentVariable = "CONTROLPLANE_TOKEN";
    public static readonly string DefaultFile = Path.Combine(".controlplane", "admin.token");

    /// <summary>Null when no source has a token (the call then goes without one and the gateway says what is missing).</summary>
    /// <exception cref="InvalidTokenSourceException">A named token file cannot be read or is empty.</exception>
    public static ResolvedToken? Resolve(string? token, string? tokenFile) =>
        Resolve(token, tokenFile, Environment.GetEnvironmentVariable(EnvironmentVariable), DefaultFile);

    public static ResolvedToken? Resolve(string? token, string? tokenFile, string? environmentValue, string defaultFile)
    {
        if (!string.IsNullOrWhiteSpace(token)) return new ResolvedToken(token.Trim(), "--token");
        if (!string.IsNullOrWhiteSpace(tokenFile)) return new ResolvedToken(ReadFile(tokenFile), $"--token-file {tokenFile}");
        if (!string.IsNullOrWhiteSpace(environmentValue)) return new ResolvedToken(environmentValue.Trim(), EnvironmentVariable);
        return File.Exists(defaultFile) ? new ResolvedToken(ReadFile(defaultFile), defaultFile) : null;
    }

    private static string ReadFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidTokenSourceException($"cannot read token file '{path}': {e.Message}");
        }
        var line = text.Split('\n', 2)[0].Trim();
        return line.Length > 0 ? line : throw new InvalidTokenSourceException($"token file '{path}' is empty.");
    }
}

/// <summary>A token source that was named but cannot be used; the message never contains a token.</summary>
public sealed class InvalidTokenSourceException(string message) : Exception(message);
