/* true - the tiny static program that the fork_exec benchmark executes. */
int main(void)
{
    return 0;
}
