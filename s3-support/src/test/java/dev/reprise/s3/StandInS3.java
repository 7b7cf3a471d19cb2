package dev.reprise.s3;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.crt.AwsCrtAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/**
 * An S3 endpoint on loopback that answers what the test decides, as S3 would on the wire (status and
 * XML error body), and records every request. For the answers no local store gives: a setting
 * accepted, refused with 403, and so on.
 */
final class StandInS3 implements AutoCloseable {

    /** One request as it arrived; {@code subresource} is the bucket subresource ("versioning", "lifecycle"), or "". */
    record Request(String method, String path, String subresource, String body) {
    }

    /** What the endpoint answers. */
    record Answer(int status, String body) {

        static Answer ok() {
            return new Answer(200, "");
        }

        static Answer xml(String body) {
            return new Answer(200, body);
        }

        static Answer error(int status, String code, String message) {
            return new Answer(status, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code + "</Code><Message>" + message
                    + "</Message><RequestId>stand-in</RequestId></Error>");
        }
    }

    private final HttpServer server;
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final Function<Request, Answer> answers;

    private StandInS3(Function<Request, Answer> answers) throws IOException {
        this.answers = answers;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    static StandInS3 start(Function<Request, Answer> answers) throws IOException {
        return new StandInS3(answers);
    }

    URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** An async client built as the service's is (AWS CRT HTTP client, path-style), pointed here. */
    S3AsyncClient client() {
        return client(endpoint(), "stand-in", "stand-in-secret");
    }

    static S3AsyncClient client(URI endpoint, String accessKey, String secretKey) {
        return S3AsyncClient.builder()
                .endpointOverride(endpoint)
                .region(Region.US_EAST_1)
                .forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey)))
                .httpClientBuilder(AwsCrtAsyncHttpClient.builder())
                .build();
    }

    List<Request> requests() {
        return List.copyOf(requests);
    }

    /** How many requests of {@code method} went to the bucket {@code subresource}. */
    long count(String method, String subresource) {
        return requests.stream().filter(r -> r.method().equals(method) && r.subresource().equals(subresource)).count();
    }

    /** The body of the one {@code method} request to {@code subresource}. */
    String body(String method, String subresource) {
        List<Request> matching = requests.stream().filter(r -> r.method().equals(method) && r.subresource().equals(subresource)).toList();
        if (matching.size() != 1) {
            throw new AssertionError("expected one " + method + " ?" + subresource + ", got " + requests);
        }
        return matching.get(0).body();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String query = exchange.getRequestURI().getRawQuery();
            Request request = new Request(exchange.getRequestMethod(), exchange.getRequestURI().getPath(),
                    query == null ? "" : query.split("[=&]")[0],
                    new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            requests.add(request);
            Answer answer = answers.apply(request);
            byte[] body = answer.body().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/xml");
            exchange.getResponseHeaders().set("x-amz-request-id", "stand-in");
            boolean empty = body.length == 0 || request.method().equals("HEAD");
            exchange.sendResponseHeaders(answer.status(), empty ? -1 : body.length);
            if (!empty) {
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
