// Runs DynamoDB Local (the official emulator) bound to one address instead of every interface.
// DynamoDB Local has no bind option: its DynamoDBProxyServer builds `new org.eclipse.jetty.server.Server(port)`,
// whose connector listens on all interfaces. We build the server the way its own main() does
// (ServerRunner.createServerFromCommandLineArgs), set the host of its Jetty connectors before start, and run it.
// Usage (source-file mode, Java 11+; the JDK's compiler module must be present):
//   java -cp DynamoDBLocal.jar -Djava.library.path=DynamoDBLocal_lib scripts/DynamoDbLocalLoopback.java <host> <DynamoDB Local args...>
import java.lang.reflect.Field;
import java.util.Arrays;

public class DynamoDbLocalLoopback {
  public static void main(String[] args) throws Exception {
    String host = args[0];
    String[] rest = Arrays.copyOfRange(args, 1, args.length);
    Object proxy = Class.forName("software.amazon.dynamodb.services.local.main.ServerRunner")
        .getMethod("createServerFromCommandLineArgs", String[].class)
        .invoke(null, (Object) rest);
    Field f = proxy.getClass().getDeclaredField("server");
    f.setAccessible(true);
    Object server = f.get(proxy);
    Object[] connectors = (Object[]) server.getClass().getMethod("getConnectors").invoke(server);
    if (connectors.length == 0) throw new IllegalStateException("DynamoDB Local has no connector to bind");
    for (Object c : connectors) c.getClass().getMethod("setHost", String.class).invoke(c, host);
    proxy.getClass().getMethod("start").invoke(proxy);
    System.out.println("DynamoDB Local bound to " + host);
    proxy.getClass().getMethod("join").invoke(proxy);
  }
}
