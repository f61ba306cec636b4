namespace ControlPlane.Client;

/// <summary>Where the control plane's gRPC gateway listens, and how a caller chooses it.</summary>
public static class ControlPlaneEndpoint
{
    /// <summary>Environment variable consulted when no endpoint is given explicitly.</summary>
    public const string EnvironmentVariable = "CONTROLPLANE_ENDPOINT";

    /// <summary>The embedded silo's default address (loopback, plaintext HTTP/2).</summary>
    public const string Default = "http://127.0.0.1:7400";

    /// <summary>
    /// Resolves the endpoint: <paramref name="flag"/> when given, else <c>CONTROLPLANE_ENDPOINT</c>,
    /// else <see cref="Default"/>.
    /// </summary>
    /// <exception cref="InvalidEndpointException">The chosen value is not an absolute http or https URL.</exception>
    public static Uri Resolve(string? flag) =>
        Resolve(flag, Environment.GetEnvironmentVariable(EnvironmentVariable));

    /// <summary>Resolution with the environment passed in, so callers and tests need not mutate process state.</summary>
    public static Uri Resolve(string? flag, string? environmentValue)
    {
        if (!string.IsNullOrWhiteSpace(flag))
        {
            return Parse(flag.Trim(), "--endpoint");
        }

        if (!string.IsNullOrWhiteSpace(environmentValue))
        {
            return Parse(environmentValue.Trim(), EnvironmentVariable);
        }

        return new Uri(Default);
    }

    /// <summary>Parses and checks an endpoint URL; <paramref name="source"/> names where it came from in errors.</summary>
    public static Uri Parse(string value, string source)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || string.IsNullOrEmpty(uri.Host))
        {
            throw new InvalidEndpointException(
                $"{source}: '{Redact(value)}' is not a valid control plane endpoint; "
                + "expected an absolute http:// or https:// URL such as " + Default);
        }

        return uri;
    }

    /// <summary>The endpoint as it may be shown to a person: user info (credentials) removed.</summary>
    public static string Display(Uri endpoint)
    {
        if (string.IsNullOrEmpty(endpoint.UserInfo))
        {
            return endpoint.GetLeftPart(UriPartial.Path).TrimEnd('/');
        }

        var builder = new UriBuilder(endpoint) { UserName = string.Empty, Password = string.Empty };
        return builder.Uri.GetLeftPart(UriPartial.Path).TrimEnd('/');
    }

    // A malformed value may still carry a password ("http://user:secret@host"); never echo it.
    private static string Redact(string value)
    {
        var at = value.IndexOf('@', StringComparison.Ordinal);
        var scheme = value.IndexOf("://", StringComparison.Ordinal);
        return at > 0 && scheme >= 0 && at > scheme
            ? string.Concat(value.AsSpan(0, scheme + 3), "***", value.AsSpan(at))
            : value;
    }
}
