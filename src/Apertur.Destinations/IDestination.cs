namespace Apertur.Destinations;

/// <summary>Placeholder namespace root; destination adapters arrive with the delivery engine.</summary>
public static class DestinationKinds
{
    /// <summary>The destination type strings the API accepts (contract decision 17).</summary>
    public static readonly IReadOnlyList<string> All =
        ["webhook", "s3", "google_drive", "dropbox", "onedrive", "ftp", "sftp", "webdav", "azure_blob"];
}
