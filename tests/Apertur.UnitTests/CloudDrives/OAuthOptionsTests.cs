using Apertur.Server.CloudDrives;
using Shouldly;

namespace Apertur.UnitTests.CloudDrives;

public sealed class OAuthOptionsTests
{
    [Fact]
    public void Problems_Defaults_None() => new OAuthOptions().Problems().ShouldBeEmpty();

    [Fact]
    public void Problems_ChunkSizesProvidersRefuse_NamedInWords()
    {
        var options = new OAuthOptions();
        options.Google.ChunkSizeBytes = 300_000;
        options.Microsoft.ChunkSizeBytes = 61 * 1024 * 1024;
        options.Dropbox.ChunkSizeBytes = 0;

        options.Problems().ShouldBe([
            "Apertur:OAuth:Google:ChunkSizeBytes must be a positive multiple of 256 KiB (262144).",
            "Apertur:OAuth:Microsoft:ChunkSizeBytes must be a positive multiple of 320 KiB (327680), at most 60 MiB.",
            "Apertur:OAuth:Dropbox:ChunkSizeBytes must be positive and at most 150 MiB.",
        ]);
    }

    [Fact]
    public void Problems_RelativeOrNonHttpUrl_Refused()
    {
        var options = new OAuthOptions();
        options.Dropbox.TokenUrl = "/oauth2/token";
        options.Microsoft.ApiBaseUrl = "ftp://graph.example/v1.0/";

        options.Problems().ShouldBe([
            "Apertur:OAuth:Dropbox:TokenUrl must be an absolute http(s) URL (got '/oauth2/token').",
            "Apertur:OAuth:Microsoft:ApiBaseUrl must be an absolute http(s) URL (got 'ftp://graph.example/v1.0/').",
        ]);
    }

    [Fact]
    public void Settings_DefaultsPointAtTheProvidersWithTheMinimumScopes()
    {
        var options = new OAuthOptions();

        options.GoogleDrive().App.Scope.ShouldBe("https://www.googleapis.com/auth/drive.file");
        options.GoogleDrive().UploadBaseUrl.AbsoluteUri.ShouldBe("https://www.googleapis.com/upload/drive/v3/");
        options.DropboxDrive().App.Scope.ShouldBe("account_info.read files.content.write");
        options.DropboxDrive().ContentBaseUrl.AbsoluteUri.ShouldBe("https://content.dropboxapi.com/2/");
        options.OneDrive().App.Scope.ShouldBe("Files.ReadWrite offline_access");
        options.OneDrive().App.TokenUrl.AbsoluteUri.ShouldBe("https://login.microsoftonline.com/common/oauth2/v2.0/token");
        options.GoogleDrive().App.IsConfigured.ShouldBeFalse();
    }
}
