namespace ControlPlane.Client;

/// <summary>The configured control plane endpoint is not a usable URL.</summary>
public sealed class InvalidEndpointException : Exception
{
    public InvalidEndpointException()
    {
    }

    public InvalidEndpointException(string message)
        : base(message)
    {
    }

    public InvalidEndpointException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
