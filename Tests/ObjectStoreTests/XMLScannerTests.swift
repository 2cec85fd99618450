import Foundation
import ObjectStore
import Testing

/// The S3 listing scanner: element text, entities, no confusion of similar tag names.
@Suite struct XMLScannerTests {
    @Test func keysAreScannedAndDecoded() {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name>
            <KeyCount>3</KeyCount><Contents><Key>a&amp;b/c&lt;d&gt;.bin</Key><Size>1</Size></Contents>
            <Contents><Key>x&#47;y&#x41;</Key></Contents><Contents><Key/></Contents>
            <IsTruncated>true</IsTruncated><NextContinuationToken>t+/=&quot;</NextContinuationToken></ListBucketResult>
            """
        #expect(XMLScanner.elements("Key", in: xml) == ["a&b/c<d>.bin", "x/yA", ""])
        #expect(XMLScanner.elements("KeyCount", in: xml) == ["3"])
        #expect(XMLScanner.elements("NextContinuationToken", in: xml) == ["t+/=\""])
        #expect(XMLScanner.elements("Missing", in: xml).isEmpty)
        #expect(XMLScanner.decodeEntities("&bogus; & &amp") == "&bogus; & &amp")
    }

    @Test func queriesAreCanonical() {
        #expect(
            URIEncoding.query([("prefix", "a b/c"), ("list-type", "2"), ("continuation-token", "x+/=")])
                == "continuation-token=x%2B%2F%3D&list-type=2&prefix=a%20b%2Fc")
        #expect(URIEncoding.encode("a/b c~", keepSlash: true) == "a/b%20c~")
        // Against Foundation: RFC 3986's unreserved set, plus "/" when kept.
        let unreserved = CharacterSet(
            charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        for text in ["a=b", "x&y", "1+1=2", "#frag", "é 漢", "threshold=0.3", "a/b?c", "%41", "~!$'()*,;:@"] {
            #expect(
                URIEncoding.encode(text, keepSlash: false)
                    == text.addingPercentEncoding(withAllowedCharacters: unreserved))
            #expect(
                URIEncoding.encode(text, keepSlash: true)
                    == text.addingPercentEncoding(
                        withAllowedCharacters: unreserved.union(CharacterSet(charactersIn: "/"))))
        }
        #expect(HTTPObjectStore.redact("https://u:p@host/x") == "https://host/x")
    }
}
